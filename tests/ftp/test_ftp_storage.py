"""FTPStorage against real pyftpdlib servers: reconnecting, jailing, TLS, active mode,
legacy servers, temporary names, connection reuse and threads."""

from __future__ import annotations

import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File

from storages.backends import ftp as ftp_module
from storages.backends.ftp import FTPStorage
from storages.core import RemoteFile, is_temp_name
from tests.support import planted_temp_names


def _disk(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _temp_files(root):
    return [p for p in root.rglob("*") if is_temp_name(p.name)]


# -- surviving a server restart --------------------------------------------------

def test_storage_carries_on_after_a_server_restart(private_ftp):
    storage = FTPStorage(**private_ftp.new_namespace())
    storage.save("before.txt", ContentFile(b"saved before"))
    assert storage.listdir("") == ([], ["before.txt"])
    port = private_ftp.port
    private_ftp.restart()  # every client connection is dropped
    assert private_ftp.port == port
    logins = private_ftp.count("USER")
    assert storage.exists("before.txt")  # the pooled connection is dead: reconnect, transparently
    assert storage.open("before.txt").read() == b"saved before"
    storage.save("after.txt", ContentFile(b"saved after"))
    assert storage.listdir("") == ([], ["after.txt", "before.txt"])
    assert storage.size("after.txt") == 11
    assert private_ftp.count("USER") == logins + 1
    private_ftp.restart()
    with storage.open("big.bin", "wb") as f:  # a streaming upload starting on a dead connection
        f.write(b"x" * (storage.part_size + 5))
    assert storage.size("big.bin") == storage.part_size + 5
    storage.close()


def test_server_down_is_a_connection_error_naming_the_endpoint(private_ftp):
    storage = FTPStorage(**private_ftp.new_namespace())
    storage.save("a.txt", ContentFile(b"a"))
    private_ftp._shutdown()  # down, not restarted
    with pytest.raises(ConnectionError) as info:
        storage.exists("a.txt")
    message = str(info.value)
    assert f"127.0.0.1:{private_ftp.port}" in message and private_ftp.password not in message
    private_ftp.restart()
    assert storage.exists("a.txt")  # and back when the server is
    storage.close()


def test_a_read_cut_by_a_restart_resumes_or_fails_loudly_then_the_storage_carries_on(private_ftp):
    storage = FTPStorage(**private_ftp.new_namespace())
    data = os.urandom(32 * 1024 * 1024)  # more than loopback socket buffers hold: the server is mid-send
    storage.save("big.bin", ContentFile(data))
    f = storage.open("big.bin")
    assert f.read(1000) == data[:1000]
    private_ftp.restart()
    assert f.read() == data[1000:]  # REST from the byte it had reached, on a new connection
    f.close()
    storage.read_resumes = 0
    f = storage.open("big.bin")
    assert f.read(1000) == data[:1000]
    private_ftp.restart()
    with pytest.raises(ConnectionError):
        f.read()  # never a silently truncated file
    f.close()
    assert storage.open("big.bin").read() == data
    storage.close()


def test_injected_421_is_retried_on_a_new_connection(ftp_emulator, ftp_storage):
    storage = ftp_storage()
    storage.save("a.txt", ContentFile(b"abc"))
    ftp_emulator.inject("MLST")
    assert storage.size("a.txt") == 3
    assert ("MLST", ftp_emulator.fired[-1][1]) == ftp_emulator.fired[-1]
    assert ftp_emulator.fired[-1][1].startswith("421")


def test_idle_connections_are_checked_with_noop(ftp_emulator, ftp_storage, monkeypatch):
    storage = ftp_storage()
    storage.save("a.txt", ContentFile(b"abc"))
    noops = ftp_emulator.count("NOOP")
    monkeypatch.setattr(ftp_module, "CHECK_AFTER", 0.0)
    assert storage.exists("a.txt")
    assert ftp_emulator.count("NOOP") == noops + 1
    monkeypatch.setattr(ftp_module, "CHECK_AFTER", 3600.0)
    assert storage.exists("a.txt")
    assert ftp_emulator.count("NOOP") == noops + 1


# -- connections: reuse, threads, closing ----------------------------------------

def test_one_connection_is_reused(ftp_emulator, ftp_storage):
    storage = ftp_storage()
    logins = ftp_emulator.count("USER")
    for i in range(20):
        storage.save(f"f{i}.txt", ContentFile(b"x"))
        assert storage.open(f"f{i}.txt").read() == b"x"
    storage.listdir("")
    assert ftp_emulator.count("USER") == logins + 1


def test_threads_share_the_storage_safely(ftp_emulator, ftp_storage):
    storage = ftp_storage(file_overwrite=True)
    logins = ftp_emulator.count("USER")

    def work(i):
        payload = os.urandom(1000 + i)
        storage.save(f"t/{i % 7}/{i}.bin", ContentFile(payload))
        with storage.open(f"t/{i % 7}/{i}.bin") as f:
            assert f.read(10) == payload[:10]
            assert storage.exists(f"t/{i % 7}/{i}.bin")  # another command while the file is open
            assert f.read() == payload[10:]
        return storage.size(f"t/{i % 7}/{i}.bin") == len(payload)

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(80)))
    assert storage.listdir("t")[0] == [str(i) for i in range(7)]
    assert ftp_emulator.count("USER") - logins < 40  # pooled: not one login per file (320 operations)


def test_an_open_file_does_not_block_other_operations(ftp_storage):
    storage = ftp_storage()
    storage.save("a.txt", ContentFile(b"alpha beta gamma"))
    f = storage.open("a.txt")
    assert f.read(5) == b"alpha"
    storage.save("b.txt", ContentFile(b"b"))
    assert storage.listdir("") == ([], ["a.txt", "b.txt"])
    w = storage.open("c.txt", "wb")
    w.write(b"c" * (storage.part_size + 1))  # an upload in progress, too
    assert storage.open("b.txt").read() == b"b"
    w.close()
    assert f.read() == b" beta gamma"
    f.close()
    assert storage.size("c.txt") == storage.part_size + 1


def test_listdir_hides_exactly_the_core_temp_names(ftp_emulator, ftp_storage):
    storage = ftp_storage()
    storage.save("a.txt", ContentFile(b"a"))
    with planted_temp_names(ftp_emulator.root_dir / storage.root.lstrip("/")) as shown:
        assert storage.listdir("") == ([], sorted(["a.txt", *shown]))


def test_close_logs_out(ftp_emulator, ftp_storage):
    storage = ftp_storage()
    storage.save("a.txt", ContentFile(b"a"))
    quits = ftp_emulator.count("QUIT")
    storage.close()
    assert ftp_emulator.count("QUIT") == quits + 1
    assert storage.exists("a.txt")  # and it reconnects when used again


# -- names never escape the root ---------------------------------------------------

@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "..\\x"])
def test_traversal_refused_and_nothing_appears_outside_the_root(ftp_emulator, bad):
    storage = FTPStorage(**ftp_emulator.storage_options())  # the FTP user's home itself
    workdir = ftp_emulator.workdir
    outside = sorted(p.name for p in workdir.iterdir())
    parent = sorted(p.name for p in workdir.parent.iterdir() if p.name in ("x", "etc", "passwd"))
    for call in (lambda: storage.save(bad, ContentFile(b"evil")), lambda: storage.open(bad, "wb"),
                 lambda: storage.delete(bad), lambda: storage.exists(bad), lambda: storage.listdir(bad)):
        with pytest.raises(SuspiciousFileOperation):
            call()
    assert sorted(p.name for p in workdir.iterdir()) == outside
    assert sorted(p.name for p in workdir.parent.iterdir() if p.name in ("x", "etc", "passwd")) == parent
    assert not (workdir / "x").exists() and not (workdir.parent / "x").exists()
    storage.close()


def test_the_emulator_jails_raw_clients_too(ftp_emulator):
    client = ftp_emulator.client()
    try:
        client.storbinary("STOR ../../escaped-by-raw-client.txt", io.BytesIO(b"raw"))
    finally:
        client.quit()
    assert (ftp_emulator.root_dir / "escaped-by-raw-client.txt").read_bytes() == b"raw"
    assert not (ftp_emulator.workdir / "escaped-by-raw-client.txt").exists()
    assert not (ftp_emulator.workdir.parent / "escaped-by-raw-client.txt").exists()
    (ftp_emulator.root_dir / "escaped-by-raw-client.txt").unlink()


# -- uploads: temporary names, create-only, directories ----------------------------

def test_upload_goes_to_a_hidden_temporary_name_then_is_renamed(ftp_emulator, ftp_storage):
    storage = ftp_storage()
    root = ftp_emulator.root_dir / storage.root.lstrip("/")
    f = storage.open("deep/er/file.bin", "wb")
    f.write(b"y" * (storage.part_size + 10))
    assert len(_temp_files(root)) == 1  # the bytes so far are under a temporary name...
    assert not (root / "deep/er/file.bin").exists()
    assert storage.listdir("deep/er") == ([], [])  # ...which listdir never shows
    f.close()
    assert _temp_files(root) == []
    assert (root / "deep/er/file.bin").stat().st_size == storage.part_size + 10
    assert ("RNTO", f"{storage.root}/deep/er/file.bin") in list(ftp_emulator.commands)


def test_aborted_and_failed_uploads_leave_nothing(ftp_emulator, ftp_storage):
    storage = ftp_storage()
    root = ftp_emulator.root_dir / storage.root.lstrip("/")
    with pytest.raises(RuntimeError):
        with storage.open("aborted.bin", "wb") as f:
            f.write(b"z" * (storage.part_size * 2 + 3))
            raise RuntimeError("caller failed")
    ftp_emulator.inject("STOR", "452 Insufficient storage space.")
    with pytest.raises(ConnectionError, match="452"):
        storage.save("full.bin", ContentFile(b"data"))
    assert _disk(root) == []


def test_server_failure_mid_upload_leaves_the_old_file(ftp_emulator, ftp_storage):
    storage = ftp_storage(file_overwrite=True)
    storage.save("keep.txt", ContentFile(b"original"))
    ftp_emulator.inject("RNTO", "550 Rename failed: disk error.")
    with pytest.raises(OSError):
        storage.save("keep.txt", ContentFile(b"replacement"))
    assert storage.open("keep.txt").read() == b"original"
    root = ftp_emulator.root_dir / storage.root.lstrip("/")
    assert _temp_files(root) == []


def test_overwrite_on_a_server_whose_rename_does_not_replace(ftp_emulator, ftp_storage):
    storage = ftp_storage(file_overwrite=True)
    storage.save("keep.txt", ContentFile(b"original"))
    ftp_emulator.inject("RNTO", "550 Cannot create a file when that file already exists.")
    assert storage.save("keep.txt", ContentFile(b"replacement")) == "keep.txt"
    assert storage.open("keep.txt").read() == b"replacement"
    assert ftp_emulator.fired[-1][0] == "RNTO"


def test_create_only_commit_refuses_a_name_taken_meanwhile(ftp_emulator, ftp_storage):
    storage = ftp_storage()
    f = RemoteFile(storage, "taken.txt", "wb", create_only=True)
    f.write(b"mine")
    client = ftp_emulator.client()
    client.mkd(storage.root)
    client.storbinary(f"STOR {storage.root}/taken.txt", io.BytesIO(b"theirs"))
    client.quit()
    with pytest.raises(FileExistsError):
        f.close()
    assert storage.open("taken.txt").read() == b"theirs"
    assert _temp_files(ftp_emulator.root_dir) == []
    # And the storage's save picks a new name instead.
    name = storage.save("taken.txt", ContentFile(b"mine"))
    assert name != "taken.txt" and storage.open(name).read() == b"mine"


def test_create_only_saves_from_threads_of_one_process_never_overwrite(ftp_storage):
    storage = ftp_storage(file_overwrite=False)
    barrier = threading.Barrier(6)

    def save(i):
        barrier.wait()
        return storage.save("race.txt", ContentFile(f"writer {i}".encode()))

    with ThreadPoolExecutor(6) as pool:
        names = list(pool.map(save, range(6)))
    assert len(set(names)) == 6
    assert {storage.open(n).read() for n in names} == {f"writer {i}".encode() for i in range(6)}


def test_large_streaming_save_and_ranged_read(ftp_emulator, ftp_storage):
    storage = ftp_storage()
    block = os.urandom(1 << 16)

    class Source(io.RawIOBase):
        sent = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.sent >= 48:
                return 0
            buffer[: len(block)] = block
            self.sent += 1
            return len(block)

    storage.save("stream.bin", File(io.BufferedReader(Source(), 1 << 16), name="stream.bin"))
    assert storage.size("stream.bin") == 48 * len(block)
    with storage.open("stream.bin") as f:
        f.seek(len(block) * 47 + 5)
        assert f.read() == block[5:]
    assert ("REST", str(len(block) * 47 + 5)) in list(ftp_emulator.commands)


def test_transfers_stay_binary_after_listings(ftp_storage):
    storage = ftp_storage()
    data = b"line\r\nbreaks\nand\r bytes \x00\xff" * 1000
    for i in range(3):
        storage.save(f"b{i}.bin", ContentFile(data))
        storage.listdir("")  # a listing must not leave the connection in ASCII mode
        assert storage.size(f"b{i}.bin") == len(data)
        assert storage.open(f"b{i}.bin").read() == data


# -- metadata ------------------------------------------------------------------------

def test_size_time_and_missing(ftp_emulator, ftp_storage):
    storage = ftp_storage()
    storage.save("d/a.txt", ContentFile(b"12345"))
    assert storage.size("d/a.txt") == 5
    disk = ftp_emulator.root_dir / storage.root.lstrip("/") / "d/a.txt"
    expected = datetime.fromtimestamp(int(disk.stat().st_mtime), timezone.utc)
    assert storage.get_modified_time("d/a.txt") == expected
    assert storage.exists("d")  # a directory exists, like on a local file system
    for call in (storage.size, storage.open, storage.get_modified_time):
        with pytest.raises(FileNotFoundError):
            call("d/missing.txt")
    assert not storage.exists("missing/deeper.txt")
    storage.save("empty.txt", ContentFile(b""))
    assert storage.size("empty.txt") == 0


# -- TLS, active mode, legacy servers ----------------------------------------------

def test_ftps_round_trip(ftps_emulator):
    storage = FTPStorage(**ftps_emulator.new_namespace())
    assert storage.endpoint().startswith("ftps://")
    data = os.urandom(300_000)
    storage.save("dir/secure.bin", ContentFile(data))
    assert storage.open("dir/secure.bin").read() == data
    with storage.open("dir/secure.bin") as f:
        f.seek(299_990)
        assert f.read() == data[299_990:]
    assert storage.listdir("") == (["dir"], [])
    assert storage.size("dir/secure.bin") == len(data)
    commands = list(ftps_emulator.commands)
    assert ("AUTH", "TLS") in commands and ("PROT", "P") in commands
    storage.close()


def test_ftps_server_refuses_plain_ftp(ftps_emulator):
    options = ftps_emulator.new_namespace(scheme="ftp")
    options.pop("ca_file")
    storage = FTPStorage(**options)
    with pytest.raises(PermissionError, match="refused the login"):
        storage.exists("x")


def test_ftps_untrusted_certificate_is_refused_unless_verification_is_off(ftps_emulator):
    options = ftps_emulator.new_namespace()
    options.pop("ca_file")
    with pytest.raises(ConnectionError, match="FTP_STORAGE_CA_FILE"):
        FTPStorage(**options).exists("x")
    unverified = FTPStorage(**options, tls_verify=False)
    unverified.save("ok.txt", ContentFile(b"ok"))
    assert unverified.open("ok.txt").read() == b"ok"
    unverified.close()


def test_active_mode(ftp_emulator):
    storage = FTPStorage(**ftp_emulator.new_namespace(scheme="aftp"))
    ftp_emulator.commands.clear()
    storage.save("dir/active.txt", ContentFile(b"active bytes"))
    assert storage.open("dir/active.txt").read() == b"active bytes"
    assert storage.listdir("dir") == ([], ["active.txt"])
    commands = {cmd for cmd, _ in ftp_emulator.commands}
    assert commands & {"PORT", "EPRT"} and not commands & {"PASV", "EPSV"}
    storage.close()


def test_server_without_mlsd_and_mlst(legacy_ftp):
    storage = FTPStorage(**legacy_ftp.new_namespace())
    for name in ["a.txt", "with space.txt", "sub dir/b.txt", "sub2/c/d.txt"]:
        storage.save(name, ContentFile(name.encode()))
    assert storage.listdir("") == (["sub dir", "sub2"], ["a.txt", "with space.txt"])
    assert storage.listdir("sub2") == (["c"], [])
    assert storage.listdir("nope") == ([], [])
    assert storage.size("with space.txt") == len("with space.txt")
    modified = storage.get_modified_time("a.txt")
    assert abs(modified - datetime.now(timezone.utc)) < timedelta(minutes=2)
    with pytest.raises(FileNotFoundError):
        storage.size("missing.txt")
    used = {cmd for cmd, _ in legacy_ftp.commands}
    assert {"LIST", "SIZE", "MDTM"} <= used
    storage.close()


def test_wrong_password_is_a_permission_error_without_the_password(ftp_emulator):
    options = ftp_emulator.new_namespace()
    wrong = options["location"].replace(ftp_emulator.password, "not-the-password-123")
    with pytest.raises(PermissionError) as info:
        FTPStorage(location=wrong).exists("x")
    assert "not-the-password-123" not in str(info.value) and "storages" in str(info.value)


def test_missing_ca_file_is_a_configuration_error(ftps_emulator, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    storage = FTPStorage(**ftps_emulator.new_namespace(ca_file=str(tmp_path / "nope.pem")))
    with pytest.raises(ImproperlyConfigured, match="FTP_STORAGE_CA_FILE"):
        storage.exists("x")
