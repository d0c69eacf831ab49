"""SFTPStorage against the real paramiko server: auth, host keys, restarts, the jail,
modes, atomic placement, connections."""

import gc
import getpass
import os
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.test import override_settings
from paramiko.sftp import SFTP_FAILURE

from emulators.base import wait_until
from emulators.sftp_server import generate_ed25519
from storages.backends.sftpstorage import SFTPStorage
from storages.core import is_temp_name
from tests.support import FailingSource, planted_temp_names


def _tree(path):
    """Every path under ``path`` (to check that nothing appeared)."""
    found = set()
    for base, dirs, files in os.walk(path):
        found.update(os.path.join(base, n) for n in dirs + files)
    return found


# -- authentication and host keys ------------------------------------------------

def test_wrong_password_is_a_clear_permission_error(sftp_emulator, make_sftp):
    storage = make_sftp(params=sftp_emulator.connect_params(password="wrong-password-123"))
    with pytest.raises(PermissionError) as info:
        storage.exists("a.txt")
    message = str(info.value)
    assert "authentication failed" in message and "'storages'" in message
    assert sftp_emulator.endpoint.split("//")[1] in message
    for secret in ("wrong-password-123", sftp_emulator.password):
        assert secret not in message and secret not in repr(info.value.__cause__)


def test_public_key_auth(sftp_emulator, make_sftp, tmp_path):
    storage = make_sftp(params=sftp_emulator.connect_params(key=True))
    assert "password" not in storage.params
    storage.save("by-key.txt", ContentFile(b"key auth"))
    assert storage.open("by-key.txt").read() == b"key auth"

    _, other_key = generate_ed25519()
    (tmp_path / "other").write_text(other_key)
    stranger = make_sftp(params=sftp_emulator.connect_params(key=True, key_filename=str(tmp_path / "other")))
    with pytest.raises(PermissionError, match="authentication failed"):
        stranger.exists("by-key.txt")


def test_unknown_host_key_is_refused_with_a_clear_message(sftp_emulator, make_sftp, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    with pytest.raises(ImproperlyConfigured) as info:
        make_sftp(known_host_file=str(empty)).save("x.txt", ContentFile(b"x"))
    message = str(info.value)
    assert "not in the known-hosts file" in message and str(empty) in message
    assert "SHA256:" in message and f"ssh-keyscan -p {sftp_emulator.port} 127.0.0.1" in message
    assert "SFTP_STORAGE_ACCEPT_UNKNOWN_HOST_KEY" in message
    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        make_sftp(known_host_file=str(tmp_path / "missing")).exists("x.txt")
    assert not os.path.exists(sftp_emulator.local_path(make_sftp.options["location"]))


def test_accepting_unknown_host_keys_is_opt_in_and_writes_nothing(make_sftp, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    storage = make_sftp(known_host_file=str(empty), accept_unknown_host_key=True)
    storage.save("x.txt", ContentFile(b"x"))
    assert storage.exists("x.txt")
    assert empty.read_text() == ""


def test_changed_host_key_is_refused(sftp_emulator, make_sftp, tmp_path):
    impostor, _ = generate_ed25519()
    known = tmp_path / "known_hosts"
    known.write_text(f"{sftp_emulator.known_hosts_name} {impostor.get_name()} {impostor.get_base64()}\n")
    with pytest.raises(ImproperlyConfigured, match="does not match"):
        make_sftp(known_host_file=str(known)).exists("x.txt")


def test_interactive_prompts_once_for_a_password(own_sftp, monkeypatch):
    prompts = []
    monkeypatch.setattr(getpass, "getpass", lambda prompt: prompts.append(prompt) or own_sftp.password)
    params = own_sftp.connect_params()
    del params["password"]
    quiet = SFTPStorage(**own_sftp.new_namespace(params=params))
    with pytest.raises(ImproperlyConfigured, match="no way to log in"):
        quiet.exists("x")
    assert prompts == []
    storage = SFTPStorage(**own_sftp.new_namespace(params=params, interactive=True))
    storage.save("typed.txt", ContentFile(b"typed"))
    assert prompts == ["SFTP password for storages@127.0.0.1: "]
    own_sftp.restart()  # the reconnect reuses the typed password
    assert storage.open("typed.txt").read() == b"typed"
    assert len(prompts) == 1
    storage.close()


def test_unreachable_server_is_a_connection_error(own_sftp):
    storage = SFTPStorage(**own_sftp.new_namespace())
    own_sftp.stop(keep_data=True)
    with pytest.raises(ConnectionError) as info:
        storage.exists("x")
    assert f"127.0.0.1:{own_sftp.port}" in str(info.value)
    assert own_sftp.password not in str(info.value)
    own_sftp.start()
    assert storage.exists("x") is False


# -- restarts and connections ----------------------------------------------------

def test_storage_carries_on_after_server_restarts(own_sftp):
    storage = SFTPStorage(**own_sftp.new_namespace())
    storage.save("before.txt", ContentFile(b"before"))
    port = own_sftp.port
    for round_ in range(3):
        own_sftp.restart()
        assert own_sftp.port == port
        assert storage.open("before.txt").read() == b"before"
        storage.save(f"after-{round_}.txt", ContentFile(b"after"))
    assert storage.listdir("") == ([], ["after-0.txt", "after-1.txt", "after-2.txt", "before.txt"])
    storage.close()


def test_each_call_after_a_restart_reconnects(own_sftp):
    """Every kind of call, first after a restart, finds the old connection dead."""
    storage = SFTPStorage(**own_sftp.new_namespace())
    storage.save("f.txt", ContentFile(b"data"))
    calls = [
        lambda: storage.exists("f.txt"),
        lambda: storage.size("f.txt"),
        lambda: storage.listdir(""),
        lambda: storage.get_modified_time("f.txt"),
        lambda: storage.save("g.txt", ContentFile(b"small")),
        lambda: storage.open("f.txt").read(),
        lambda: storage.delete("g.txt"),
    ]
    for call in calls:
        own_sftp.restart()
        call()
    assert storage.listdir("") == ([], ["f.txt"])
    storage.close()


def test_a_stream_cut_by_a_restart_resumes_and_the_storage_recovers(own_sftp):
    storage = SFTPStorage(**own_sftp.new_namespace())
    # A window far smaller than the file, so that the restart cuts requests still unanswered
    # (with the default 4 MiB, the whole file can arrive before the restart).
    storage.read_window = 128 * 1024
    data = os.urandom(3 * 1024 * 1024)
    storage.save("big.bin", ContentFile(data))
    f = storage.open("big.bin")
    assert f.read(1000) == data[:1000]
    own_sftp.restart()
    assert f.read() == data[1000:]  # re-opened on a new connection, from the byte it had reached
    f.close()
    with storage.open("big.bin") as again:
        assert again.read() == data
    storage.read_resumes = 0  # without resumption, the cut is a clean error naming the server
    f = storage.open("big.bin")
    assert f.read(1000) == data[:1000]
    own_sftp.restart()
    with pytest.raises(ConnectionError, match=str(own_sftp.port)):
        f.read()
    f.close()
    storage.close()


def test_a_settings_change_mid_stream_keeps_open_files_working(make_sftp):
    storage = make_sftp()
    data = os.urandom(3 * 1024 * 1024)
    storage.save("big.bin", ContentFile(data))
    reader = storage.open("big.bin")
    writer = storage.open("out.bin", "wb")
    writer.write(b"w" * (storage.part_size + 10))
    assert reader.read(1000) == data[:1000]
    with override_settings(MEDIA_URL="/elsewhere/"):  # the storage re-reads its options
        gc.collect()
        assert reader.read() == data[1000:]
        writer.write(b"end")
        writer.close()
    reader.close()
    assert storage.size("out.bin") == storage.part_size + 13


def test_one_connection_per_thread_closed_with_the_storage(own_sftp):
    storage = SFTPStorage(**own_sftp.new_namespace())
    storage.save("x.txt", ContentFile(b"x"))
    assert wait_until(lambda: own_sftp.connection_count() == 1, 5)
    barrier = threading.Barrier(4)

    def use(_):
        barrier.wait()
        return storage.exists("x.txt")

    pool = ThreadPoolExecutor(4)
    assert all(pool.map(use, range(4)))
    assert wait_until(lambda: own_sftp.connection_count() == 5, 5)
    pool.shutdown()  # threads end: their connections are closed with them
    gc.collect()
    assert wait_until(lambda: own_sftp.connection_count() == 1, 5)
    storage.close()
    assert wait_until(lambda: own_sftp.connection_count() == 0, 5)
    assert storage.exists("x.txt")  # a closed storage connects again when used
    storage = pool = None  # a storage that is garbage collected closes its connections
    gc.collect()
    assert wait_until(lambda: own_sftp.connection_count() == 0, 5)


# -- the jail ----------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/../../x", "..\\x"])
def test_escaping_names_are_refused_and_nothing_appears_outside(own_sftp, bad):
    storage = SFTPStorage(**own_sftp.new_namespace())
    storage.save("inside.txt", ContentFile(b"fine"))
    outside = own_sftp.workdir.parent  # this test's own tmp_path
    before = _tree(outside)
    with pytest.raises(SuspiciousFileOperation):
        storage.save(bad, ContentFile(b"evil"))
    with pytest.raises(SuspiciousFileOperation):
        storage.open(bad, "wb")
    assert _tree(outside) == before
    storage.close()


def test_the_server_refuses_escapes_itself(own_sftp):
    """Defence in depth: a client that skips the backend's checks gets nowhere."""
    client = own_sftp.client()
    outside = own_sftp.workdir.parent  # this test's own tmp_path: nothing else writes there
    before = _tree(outside)
    # Escapes aim at harmless places in tmp_path, never at real system files.
    deep = "../" * 20 + str(outside / "deep.txt").lstrip("/")
    for path in ("../x", "/../x", "/a/../../x", "../../escaped", deep):
        with pytest.raises(PermissionError):
            client.open(path, "w")
        with pytest.raises(PermissionError):
            client.mkdir(path)
        with pytest.raises(PermissionError):
            client.stat(path)
    with pytest.raises(FileNotFoundError):  # "/" is the jail: this is <root>/etc/passwd
        client.open("/etc/passwd")
    with pytest.raises(OSError):
        client.normalize("/..")
    client.open("/inside.txt", "w").close()
    with pytest.raises(PermissionError):
        client.rename("/inside.txt", "/../escaped.txt")
    with pytest.raises(OSError, match="unsupported"):
        client.symlink("/etc/passwd", "/link")
    os.symlink("/etc", own_sftp.local_path("/planted"))  # a link that got there some other way
    with pytest.raises(PermissionError):
        client.open("/planted/passwd")
    with pytest.raises(PermissionError):
        client.listdir("/planted")
    assert _tree(outside) - before == {str(own_sftp.local_path(p)) for p in ("/inside.txt", "/planted")}
    client.close()


def test_a_root_outside_the_jail_is_refused_by_the_server(own_sftp):
    storage = SFTPStorage(**own_sftp.new_namespace(location="/../outside/"))
    before = _tree(own_sftp.workdir.parent)
    with pytest.raises(PermissionError):
        storage.save("a.txt", ContentFile(b"x"))
    assert _tree(own_sftp.workdir.parent) == before
    assert not (own_sftp.workdir / "outside").exists()
    storage.close()


# -- placement, modes, owners --------------------------------------------------------

def test_file_and_dir_modes_are_applied(sftp_emulator, make_sftp):
    storage = make_sftp(file_mode=0o640, dir_mode=0o750)
    storage.save("d1/d2/f.txt", ContentFile(b"x"))
    root = sftp_emulator.local_path(storage.location)
    assert stat.S_IMODE(os.stat(root / "d1/d2/f.txt").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(root / "d1").st_mode) == 0o750
    assert stat.S_IMODE(os.stat(root / "d1/d2").st_mode) == 0o750
    with storage.open("d1/streamed.bin", "wb") as f:
        f.write(b"y" * (storage.part_size + 5))
    assert stat.S_IMODE(os.stat(root / "d1/streamed.bin").st_mode) == 0o640
    plain = make_sftp()
    plain.save("d3/plain.txt", ContentFile(b"x"))
    assert stat.S_IMODE(os.stat(root / "d3/plain.txt").st_mode) == 0o666 & ~_umask()
    assert stat.S_IMODE(os.stat(root / "d3").st_mode) == 0o777 & ~_umask()


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_uid_and_gid_are_applied(sftp_emulator, make_sftp):
    storage = make_sftp(uid=12345, gid=23456)
    root = sftp_emulator.local_path(storage.location)
    if os.geteuid() != 0:  # only root may give files away: the save fails and leaves nothing
        with pytest.raises(PermissionError):
            storage.save("owned/f.txt", ContentFile(b"x"))
        assert not any(n.endswith(".part") for n in _tree(root))
        return
    storage.save("owned/f.txt", ContentFile(b"x"))
    for path in (root / "owned/f.txt", root / "owned"):
        st = os.stat(path)
        assert (st.st_uid, st.st_gid) == (12345, 23456)
    only_gid = make_sftp(gid=23456)
    only_gid.save("g.txt", ContentFile(b"x"))
    assert (os.stat(root / "g.txt").st_uid, os.stat(root / "g.txt").st_gid) == (os.geteuid(), 23456)


def test_uploads_are_hidden_until_renamed_into_place(sftp_emulator, make_sftp):
    storage = make_sftp()
    root = sftp_emulator.local_path(storage.location)
    f = storage.open("up.bin", "wb")
    f.write(b"z" * (storage.part_size + 1))  # one part sent: a temp file exists on the server
    temps = [n for n in os.listdir(root) if n.endswith(".part")]
    assert len(temps) == 1 and is_temp_name(temps[0])
    assert storage.listdir("") == ([], []) and not storage.exists("up.bin")
    f.close()
    assert os.listdir(root) == ["up.bin"]
    assert storage.size("up.bin") == storage.part_size + 1


def test_listdir_hides_exactly_the_core_temp_names(sftp_emulator, make_sftp):
    storage = make_sftp()
    storage.save("a.txt", ContentFile(b"a"))
    with planted_temp_names(sftp_emulator.local_path(storage.location)) as shown:
        assert storage.listdir("") == ([], sorted(["a.txt", *shown]))


@pytest.mark.parametrize("limit", [100, 5 * 1024 * 1024], ids=["small", "streamed"])
def test_failed_uploads_leave_no_file_on_disk(sftp_emulator, make_sftp, limit):
    storage = make_sftp()
    storage.save("keep.txt", ContentFile(b"keep"))
    with pytest.raises(OSError, match="source failed"):
        storage.save("sub/failed.bin", File(FailingSource(limit), name="failed.bin"))
    root = sftp_emulator.local_path(storage.location)
    # A streamed upload had created its directory (left empty); a small one sent nothing.
    expected = ["keep.txt", "sub"] if limit > storage.part_size else ["keep.txt"]
    assert sorted(os.listdir(root)) == expected
    assert not any(n.endswith(".part") for n in _tree(root))


def test_a_refused_rename_leaves_nothing(own_sftp):
    storage = SFTPStorage(**own_sftp.new_namespace(), file_overwrite=True)
    storage.save("old.txt", ContentFile(b"old"))
    own_sftp.hooks = lambda op, *args: SFTP_FAILURE if op in ("rename", "posix_rename") else None
    with pytest.raises(OSError, match="refused"):
        storage.save("old.txt", ContentFile(b"new"))
    with pytest.raises(OSError, match="refused"):
        storage.save("new.txt", ContentFile(b"new"))
    own_sftp.hooks = None
    assert sorted(os.listdir(own_sftp.local_path(storage.location))) == ["old.txt"]
    assert storage.open("old.txt").read() == b"old"
    storage.close()


def test_create_only_save_never_replaces(make_sftp):
    first, second = make_sftp(), make_sftp()
    assert first.save("same.txt", ContentFile(b"one")) == "same.txt"
    name = second.save("same.txt", ContentFile(b"two"))
    assert name != "same.txt"
    assert first.open("same.txt").read() == b"one" and first.open(name).read() == b"two"


def test_overwrite_is_atomic_for_readers(make_sftp):
    storage = make_sftp(file_overwrite=True)
    old = os.urandom(2 * 1024 * 1024)
    storage.save("swap.bin", ContentFile(old))
    reader = storage.open("swap.bin")
    first = reader.read(1024)
    storage.save("swap.bin", ContentFile(b"new"))
    assert first + reader.read() == old  # the open file still reads the whole old content
    reader.close()
    assert storage.open("swap.bin").read() == b"new"


def test_reading_a_directory_says_so(make_sftp):
    storage = make_sftp()
    storage.save("dir/f.txt", ContentFile(b"x"))
    with pytest.raises(IsADirectoryError):
        storage.open("dir")


def test_times(make_sftp):
    storage = make_sftp()
    storage.save("t.txt", ContentFile(b"t"))
    now = datetime.now(timezone.utc)
    assert abs(storage.get_modified_time("t.txt") - now) < timedelta(minutes=1)
    assert abs(storage.get_accessed_time("t.txt") - now) < timedelta(minutes=1)
    with pytest.raises(NotImplementedError, match="only modification and access times"):
        storage.get_created_time("t.txt")


def test_streaming_keeps_memory_bounded(make_sftp):
    """A 24 MB save and read hold a few MB (windows, one part), not the file.

    tracemalloc counts the in-process server too."""
    import tracemalloc

    from bench.common import GeneratedStream

    storage = make_sftp()
    size = 24 * 1024 * 1024
    tracemalloc.start()
    try:
        started = time.monotonic()
        storage.save("big.bin", File(GeneratedStream(size), name="big.bin"))
        _, peak_write = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total = 0
        with storage.open("big.bin") as f:
            for chunk in f.chunks():
                total += len(chunk)
        _, peak_read = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size and storage.size("big.bin") == size
    assert peak_write < 12 * 1024 * 1024, peak_write
    assert peak_read < 12 * 1024 * 1024, peak_read
    assert time.monotonic() - started < 60
