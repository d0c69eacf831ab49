"""Reconnect and retry once (the core's Reconnecting) on FTP and SFTP, on real servers
that restart or drop connections: the first call after a drop succeeds on a new
connection, a call is retried once only, other errors are never retried, and an
upload cut by a drop leaves no temporary file."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from paramiko.sftp import SFTP_PERMISSION_DENIED

from storages.backends.ftp import FTPStorage
from storages.backends.sftpstorage import SFTPStorage
from storages.core import is_temp_name

PART = 64 * 1024


def _temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if is_temp_name(p.name)]


@pytest.fixture(params=["ftp", "sftp"])
def served(request):
    """(storage, emulator, the storage's directory on disk) on a private server."""
    if request.param == "ftp":
        emulator = request.getfixturevalue("private_ftp")
        storage = FTPStorage(**emulator.new_namespace())
        root = emulator.root_dir / storage.root.lstrip("/")
    else:
        emulator = request.getfixturevalue("own_sftp")
        storage = SFTPStorage(**emulator.new_namespace())
        root = emulator.local_path(storage.location)
    storage.part_size = PART
    storage.save("keep.txt", ContentFile(b"keep"))
    yield storage, emulator, root
    storage.close()


@pytest.mark.parametrize("streamed", [True, False], ids=["streamed", "small"])
def test_an_upload_after_a_restart_reconnects(served, streamed):
    storage, emulator, root = served
    data = b"u" * (3 * PART if streamed else 10)
    emulator.restart()  # the storage's connection is now dead
    assert storage.save("after.bin", ContentFile(data)) == "after.bin"
    assert storage.open("after.bin").read() == data
    assert _temp_files(root) == []


def test_ftp_retries_once_only_and_only_a_dropped_connection(private_ftp):
    storage = FTPStorage(**private_ftp.new_namespace())
    storage.save("a.txt", ContentFile(b"a"))
    private_ftp.inject("MLST", times=2)  # 421, closing the connection: twice in a row
    with pytest.raises(ConnectionError, match="421"):
        storage.size("a.txt")
    assert [cmd for cmd, _ in private_ftp.fired] == ["MLST", "MLST"]
    private_ftp.inject("MLST", "550 Permission denied.")  # an answer, not a drop
    mlst = private_ftp.count("MLST")
    with pytest.raises(PermissionError):
        storage.size("a.txt")
    assert private_ftp.count("MLST") == mlst + 1
    assert storage.size("a.txt") == 1
    storage.close()


def test_sftp_does_not_retry_a_refusal(own_sftp):
    storage = SFTPStorage(**own_sftp.new_namespace())
    storage.save("a.txt", ContentFile(b"a"))
    stats = []
    own_sftp.hooks = lambda op, *args: stats.append(op) or SFTP_PERMISSION_DENIED if op == "stat" else None
    with pytest.raises(PermissionError):
        storage.size("a.txt")
    assert stats == ["stat"]
    own_sftp.hooks = None
    storage.close()


def test_ftp_upload_cut_before_placing_leaves_no_temp_file(private_ftp):
    storage = FTPStorage(**private_ftp.new_namespace())
    root = private_ftp.root_dir / storage.root.lstrip("/")
    private_ftp.inject("RNFR")  # 421: the server drops the connection after the bytes were sent
    with pytest.raises(ConnectionError, match="421"):
        storage.save("cut.bin", ContentFile(b"c" * 100))
    assert _temp_files(root) == [] and not storage.exists("cut.bin")
    assert storage.save("cut.bin", ContentFile(b"c")) == "cut.bin"
    storage.close()


def _drop_connections_at(emulator, op):
    """A hook that drops every connection the first time ``op`` runs (the server keeps serving)."""
    fired = []

    def hook(name, *args):
        if name == op and not fired:
            fired.append(name)
            emulator.drop_connections()
            return SFTP_PERMISSION_DENIED  # never reaches the client: its connection is gone
        return None

    emulator.hooks = hook
    return fired


def test_sftp_small_upload_cut_before_placing_is_redone_on_a_new_connection(own_sftp):
    storage = SFTPStorage(**own_sftp.new_namespace(), file_overwrite=True)
    fired = _drop_connections_at(own_sftp, "posix_rename")
    assert storage.save("redo.txt", ContentFile(b"whole")) == "redo.txt"
    assert fired == ["posix_rename"]
    own_sftp.hooks = None
    assert storage.open("redo.txt").read() == b"whole"
    assert _temp_files(own_sftp.local_path(storage.location)) == []
    storage.close()


def test_sftp_streamed_upload_cut_before_placing_fails_and_leaves_no_temp_file(own_sftp):
    storage = SFTPStorage(**own_sftp.new_namespace(), file_overwrite=True)
    storage.part_size = PART
    fired = _drop_connections_at(own_sftp, "posix_rename")
    with pytest.raises(ConnectionError):  # the bytes already sent cannot be replayed
        storage.save("cut.bin", ContentFile(b"c" * (3 * PART)))
    assert fired == ["posix_rename"]
    own_sftp.hooks = None
    assert _temp_files(own_sftp.local_path(storage.location)) == [] and not storage.exists("cut.bin")
    storage.close()
