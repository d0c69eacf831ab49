"""Create-only saves on SFTP servers whose RENAME is not an atomic refusal.

SFTP v3 says RENAME fails when the target exists; OpenSSH's sftp-server makes that
atomic with link()+unlink(), but where link() fails (filesystems without hard links:
FAT, many FUSE and network mounts; EPERM, EXDEV, EOPNOTSUPP) it falls back to "stat,
then rename", which replaces a file created in between, and other servers replace
outright. A save with overwriting off must stay race-free there: it claims the name
with an exclusive create and moves its temporary file onto its own claim.
"""

from __future__ import annotations

import os

import pytest
from django.core.files.base import ContentFile
from paramiko.sftp import SFTP_OK, SFTP_OP_UNSUPPORTED

from emulators.contract.race import race_round, race_rounds
from storages.backends.sftpstorage import SFTPStorage
from tests.support import storage_maker


def _replacing_rename(emulator):
    """A server hook: RENAME replaces an existing target (the limit of OpenSSH's stat-then-rename
    fallback, whose window two writers can both pass)."""
    renames = []

    def hook(op, *args):
        if op != "rename":
            return None
        old, new = (emulator.local_path(path) for path in args)
        os.replace(old, new)
        renames.append(args[1])
        return SFTP_OK

    return hook, renames


@pytest.fixture
def make(own_sftp):
    with storage_maker(SFTPStorage, own_sftp.new_namespace()) as make:
        yield make


def test_the_hook_makes_rename_replace(own_sftp):
    """The server these tests build really replaces on RENAME (so they can fail)."""
    own_sftp.hooks, renames = _replacing_rename(own_sftp)
    client = own_sftp.client()
    for name in ("/a", "/b"):
        with client.open(name, "w") as f:
            f.write(name.encode())
    client.rename("/a", "/b")
    assert client.open("/b").read() == b"/a" and renames == ["/b"]
    client.close()


def test_racing_saves_keep_every_write_when_rename_replaces(own_sftp, make):
    own_sftp.hooks, renames = _replacing_rename(own_sftp)
    race_rounds(make, rounds=5)
    assert renames == []  # the name is claimed by an exclusive create, never by RENAME


def test_a_taken_name_is_refused_by_the_exclusive_create(own_sftp, make):
    first, second = make(file_overwrite=False), make(file_overwrite=False)
    first.save("same.txt", ContentFile(b"one"))
    own_sftp.hooks, renames = _replacing_rename(own_sftp)
    name = second.save("same.txt", ContentFile(b"two"))
    assert name != "same.txt" and renames == []
    assert first.open("same.txt").read() == b"one" and first.open(name).read() == b"two"


def test_without_posix_rename_saves_fall_back_to_rename(own_sftp, make):
    """An old server (no posix-rename@openssh.com): plain RENAME, which this one refuses
    atomically; the claim is taken back and nothing stays behind."""
    calls = []

    def no_posix_rename(op, *args):
        calls.append(op)
        return SFTP_OP_UNSUPPORTED if op == "posix_rename" else None

    own_sftp.hooks = no_posix_rename
    storages = [make(file_overwrite=False), make(file_overwrite=False)]
    race_round(storages, "old-server")
    assert "rename" in calls
    root = own_sftp.local_path(storages[0].location) / "old-server"
    assert all(os.path.getsize(root / n) > 0 for n in os.listdir(root))  # no empty claim left


def test_a_failed_placement_takes_its_claim_back(own_sftp, make):
    storage = make(file_overwrite=False)

    def refuse_posix_rename(op, *args):
        from paramiko.sftp import SFTP_FAILURE

        return SFTP_FAILURE if op == "posix_rename" else None

    own_sftp.hooks = refuse_posix_rename
    with pytest.raises(OSError):
        storage.save("claimed.txt", ContentFile(b"data"))
    own_sftp.hooks = None
    assert os.listdir(own_sftp.local_path(storage.location)) == []
