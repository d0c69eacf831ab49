"""The core's staged upload on every backend that stages (FTP, SFTP, libcloud's local
driver), on the real emulators: whichever step fails, neither a temporary file nor a
partial object remains, and the storage carries on."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from paramiko.sftp import SFTP_FAILURE

from storages.backends.apache_libcloud import LibCloudStorage
from storages.backends.apache_libcloud.local import LocalUpload
from storages.backends.ftp import FTPStorage, FTPUpload
from storages.backends.sftpstorage import SFTPStorage
from storages.backends.sftpstorage.upload import SFTPUpload
from storages.core import is_temp_name

PART = 64 * 1024


class Injected(Exception):
    """A failure injected after (or, for placing, instead of) a real step."""


@contextmanager
def injected_failure():
    """The save fails with the injected error, translated by the storage (chained with from)."""
    with pytest.raises(Exception) as info:
        yield
    assert isinstance(info.value.__cause__, Injected), repr(info.value)


@dataclass
class Staging:
    storage: Any
    upload_cls: type
    root: Path  # where the storage's files are on disk
    emulator: Any

    def files(self) -> list[str]:
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*") if p.is_file())


@pytest.fixture(params=["ftp", "sftp", "libcloud-local"])
def staging(request):
    if request.param == "ftp":
        emulator = request.getfixturevalue("ftp_emulator")
        storage = FTPStorage(**emulator.new_namespace())
        case = Staging(storage, FTPUpload, emulator.root_dir / storage.root.lstrip("/"), emulator)
    elif request.param == "sftp":
        emulator = request.getfixturevalue("own_sftp")
        storage = SFTPStorage(**emulator.new_namespace())
        case = Staging(storage, SFTPUpload, emulator.local_path(storage.location), emulator)
    else:
        emulator = request.getfixturevalue("libcloud_emulator")
        storage = LibCloudStorage(**emulator.new_namespace())
        case = Staging(storage, LocalUpload, Path(storage.driver.get_container_cdn_url(storage._container())),
                       emulator)
    storage.part_size = PART  # several parts without big files
    storage.save("keep.txt", ContentFile(b"keep"))
    yield case
    if hasattr(storage, "close"):
        storage.close()


def _failing(real, hook):
    if hook == "_place":  # fail instead of placing: a failure after it would be a success
        def step(self, *args):
            raise Injected(hook)
    else:  # do the real work on the server, then fail
        def step(self, *args):
            real(self, *args)
            raise Injected(hook)
    return step


STEPS = [("_open_temp", True), ("_write", True), ("_finish_temp", True), ("_place", True),
         ("_open_temp", False), ("_finish_temp", False), ("_place", False)]  # small uploads do not write


@pytest.mark.parametrize(("hook", "streamed"), STEPS,
                         ids=[f"{h.strip('_')}-{'streamed' if s else 'small'}" for h, s in STEPS])
@pytest.mark.parametrize("overwrite", [True, False], ids=["overwrite", "create-only"])
def test_a_failure_at_any_step_leaves_nothing(staging, monkeypatch, hook, streamed, overwrite):
    storage = staging.storage
    storage.file_overwrite = overwrite
    data = b"s" * (3 * PART + 5 if streamed else 100)
    with monkeypatch.context() as patch:
        patch.setattr(staging.upload_cls, hook, _failing(getattr(staging.upload_cls, hook), hook))
        with injected_failure():
            storage.save("dir/f.bin", ContentFile(data))
    assert staging.files() == ["keep.txt"]
    assert not storage.exists("dir/f.bin")
    assert storage.save("dir/f.bin", ContentFile(data)) == "dir/f.bin"  # and the storage carries on
    assert storage.open("dir/f.bin").read() == data
    assert not [f for f in staging.files() if is_temp_name(Path(f).name)]


def test_an_aborted_streamed_write_leaves_nothing(staging):
    storage = staging.storage
    with pytest.raises(RuntimeError):
        with storage.open("dir/aborted.bin", "wb") as f:
            f.write(b"a" * (2 * PART + 1))
            assert any(is_temp_name(Path(name).name) for name in staging.files())  # staged so far
            raise RuntimeError("the caller gave up")
    assert staging.files() == ["keep.txt"]


def test_a_streamed_create_only_save_checks_the_name_before_sending(staging, monkeypatch):
    storage, opened = staging.storage, []
    real = staging.upload_cls._open_temp
    monkeypatch.setattr(staging.upload_cls, "_open_temp", lambda self: opened.append(self.key) or real(self))
    storage.file_overwrite = False
    name = storage.save("keep.txt", ContentFile(b"n" * (3 * PART)))
    assert name != "keep.txt" and storage.size(name) == 3 * PART
    assert [key.rsplit("/", 1)[-1] for key in opened] == [name]  # nothing was sent for the taken name
    assert storage.open("keep.txt").read() == b"keep"


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "small"])
def test_a_refusal_by_the_real_server_leaves_nothing(staging, streamed):
    """The server itself refuses a step: FTP replies to STOR or RNTO, SFTP open or rename."""
    storage, emulator = staging.storage, staging.emulator
    data = b"r" * (3 * PART if streamed else 10)
    storage.file_overwrite = True
    if isinstance(storage, FTPStorage):
        refusals = [lambda: emulator.inject("STOR", "452 Insufficient storage space."),
                    lambda: emulator.inject("RNTO", "553 Rename refused.")]
    elif isinstance(storage, SFTPStorage):
        def refuse(op):
            hook = lambda name, *args: SFTP_FAILURE if name == op else None  # noqa: E731
            return lambda: setattr(emulator, "hooks", hook)
        refusals = [refuse("open"), refuse("posix_rename")]
    else:  # the local driver: a directory where the file goes
        (staging.root / "dir" / "f.bin").mkdir(parents=True)
        refusals = [lambda: None]
    for refuse in refusals:
        refuse()
        with pytest.raises(OSError):
            storage.save("dir/f.bin", ContentFile(data))
        if isinstance(storage, SFTPStorage):
            emulator.hooks = None
        assert staging.files() == ["keep.txt"]
