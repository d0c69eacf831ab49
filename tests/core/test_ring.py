"""The core's shared mechanisms as pure logic: the staged upload's order of steps and
clean-up, reconnect-and-retry-once, and skipping to an offset a stream cannot start at.
(The same mechanisms on real emulators: tests/mechanisms/.)"""

from __future__ import annotations

import io
import logging
import posixpath

import pytest

from storages.core import FromStart, ObjectInfo, Reconnecting, RemoteFile, StagedUpload, is_temp_name


class Injected(Exception):
    """A failure injected by these tests."""


class Disk:
    """An in-memory file system with atomic rename: what a staged upload writes to."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.log: list[str] = []


class DiskUpload(StagedUpload):
    """A StagedUpload on ``Disk``; ``fail`` names a hook that raises after doing its work."""

    def __init__(self, disk, key, *, create_only=False, fail=None, step_retries=0):
        super().__init__(key, create_only=create_only, where="disk")
        self.disk, self.fail, self.step_retries = disk, fail, step_retries
        self.released: list[BaseException | None] = []

    def _did(self, hook):
        self.disk.log.append(hook)
        if hook == self.fail:
            self.fail = None  # once
            raise Injected(hook)

    def _exists(self):
        self._did("exists")
        return self.key in self.disk.files

    def _open_temp(self):
        self.disk.files[self.temp] = b""
        self._did("open_temp")

    def _write(self, data):
        self.disk.files[self.temp] += data
        self._did("write")

    def _finish_temp(self, tail):
        self.disk.files[self.temp] += tail
        self._did("finish_temp")

    def _place(self):
        self._did("place")
        if self.create_only and self.key in self.disk.files:
            raise FileExistsError(self.key)
        self.disk.files[self.key] = self.disk.files.pop(self.temp)

    def _release(self, error):
        self.released.append(error)

    def _remove_temp(self):
        self.disk.log.append("remove_temp")
        self.disk.files.pop(self.temp, None)

    def _step(self, fn):  # like a reconnecting backend: run again after an Injected failure
        for attempt in range(self.step_retries + 1):
            try:
                return fn()
            except Injected:
                if attempt == self.step_retries:
                    raise


def _temps(disk):
    return [name for name in disk.files if is_temp_name(name)]


def test_a_streamed_upload_goes_through_a_temp_name_beside_the_key():
    disk = Disk()
    upload = DiskUpload(disk, "dir/f.bin")
    upload.write_part(b"ab")
    assert _temps(disk) == [upload.temp] and posixpath.dirname(upload.temp) == "dir"
    upload.write_part(b"cd")
    upload.commit(b"e")
    assert disk.files == {"dir/f.bin": b"abcde"}
    assert disk.log == ["open_temp", "write", "write", "finish_temp", "place"]
    assert upload.released == [None]


def test_a_small_upload_is_one_step():
    disk = Disk()
    DiskUpload(disk, "f.bin").commit(b"small")
    assert disk.files == {"f.bin": b"small"} and disk.log == ["open_temp", "finish_temp", "place"]


STEPS = [("open_temp", True), ("write", True), ("finish_temp", True), ("place", True),
         ("open_temp", False), ("finish_temp", False), ("place", False)]  # small uploads do not write


STEP_IDS = [f"{hook}-{'streamed' if streamed else 'small'}" for hook, streamed in STEPS]


@pytest.mark.parametrize(("hook", "streamed"), STEPS, ids=STEP_IDS)
def test_a_failure_at_any_step_leaves_no_temp_and_no_object(hook, streamed):
    disk = Disk()
    upload = DiskUpload(disk, "f.bin", fail=hook)
    with pytest.raises(Injected):
        if streamed:
            upload.write_part(b"part")
        upload.commit(b"tail")
    upload.abort()  # what the shared writer does after a failure: nothing left to do
    assert disk.files == {}
    assert disk.log.count("remove_temp") == 1
    assert isinstance(upload.released[-1], Injected)


def test_abort_removes_the_temp_file():
    disk = Disk()
    upload = DiskUpload(disk, "f.bin")
    upload.write_part(b"part")
    upload.abort()
    upload.abort()
    assert disk.files == {} and disk.log.count("remove_temp") == 1


def test_abort_before_anything_was_sent_touches_nothing():
    disk = Disk()
    DiskUpload(disk, "f.bin").abort()
    assert disk.log == []


def test_create_only_checks_the_name_before_streaming():
    disk = Disk()
    disk.files["taken.bin"] = b"theirs"
    upload = DiskUpload(disk, "taken.bin", create_only=True)
    with pytest.raises(FileExistsError):
        upload.write_part(b"gigabytes")
    assert disk.log == ["exists"] and disk.files == {"taken.bin": b"theirs"}


def test_create_only_place_refuses_a_name_taken_meanwhile():
    disk = Disk()
    upload = DiskUpload(disk, "f.bin", create_only=True)
    upload.write_part(b"mine")
    disk.files["f.bin"] = b"theirs"
    with pytest.raises(FileExistsError):
        upload.commit(b"")
    assert disk.files == {"f.bin": b"theirs"}


def test_a_retried_step_starts_again_under_a_fresh_temp_name():
    disk = Disk()
    upload = DiskUpload(disk, "f.bin", fail="finish_temp", step_retries=1)
    upload.commit(b"small")  # the first attempt fails after staging; the retry succeeds
    assert disk.files == {"f.bin": b"small"}
    assert disk.log == ["open_temp", "finish_temp", "remove_temp", "open_temp", "finish_temp", "place"]


def test_a_failed_clean_up_is_logged_not_raised(caplog):
    disk = Disk()

    class Sticky(DiskUpload):
        def _remove_temp(self):
            raise OSError("server gone")

    upload = Sticky(disk, "f.bin", fail="place")
    with caplog.at_level(logging.WARNING, logger="storages.core.staged"):
        with pytest.raises(Injected):
            upload.commit(b"x")
    assert "server gone" in caplog.text and upload.temp in caplog.text and "disk" in caplog.text


# -- reconnect and retry once -------------------------------------------------------


class Conn:
    def __init__(self, number):
        self.number, self.alive = number, True


class Pool(Reconnecting[Conn]):
    def __init__(self):
        self.made, self.released = 0, []

    def _acquire(self):
        self.made += 1
        return Conn(self.made)

    def _dropped(self, conn, error):
        return isinstance(error, ConnectionResetError) or not conn.alive

    def _reconnect(self, conn, error):
        conn.alive = False
        return self._acquire()

    def _release(self, conn, error):
        self.released.append((conn.number, type(error).__name__ if error else None))


def test_a_dropped_connection_is_replaced_and_the_call_runs_once_more():
    pool, calls = Pool(), []

    def call(conn):
        calls.append(conn.number)
        if conn.number == 1:
            raise ConnectionResetError("dropped")
        return "ok"

    assert pool.run(call) == "ok"
    assert calls == [1, 2] and pool.released == [(2, None)]


def test_other_errors_and_second_failures_are_not_retried():
    pool = Pool()
    with pytest.raises(PermissionError):
        pool.run(lambda conn: (_ for _ in ()).throw(PermissionError("refused")))
    assert pool.made == 1 and pool.released == [(1, "PermissionError")]

    def always_dropped(conn):
        raise ConnectionResetError(f"dropped {conn.number}")

    with pytest.raises(ConnectionResetError, match="dropped 3"):
        pool.run(always_dropped)
    assert pool.made == 3 and pool.released[-1] == (3, "ConnectionResetError")


def test_holding_keeps_the_connection_until_released():
    pool = Pool()
    conn, result = pool.holding(lambda conn: conn.number * 10)
    assert (conn.number, result) == (1, 10) and pool.released == []


def test_keyboard_interrupt_is_never_retried():
    pool = Pool()

    def interrupted(conn):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pool.run(interrupted)
    assert pool.made == 1 and pool.released == [(1, "KeyboardInterrupt")]


# -- skipping to an offset ------------------------------------------------------------


class Host:
    """A FileHost over bytes whose service cannot start a read at an offset."""

    part_size = 1024
    chunk_size = 7
    decode_gzip = False
    read_resumes = 3
    checksums = True

    def __init__(self, data, *, ranges):
        self.data, self.ranges, self.opened = data, ranges, []

    def _key(self, name):
        return name

    def _open_stream(self, key, start):
        self.opened.append(start)
        info = ObjectInfo(size=len(self.data))
        if self.ranges:
            return io.BytesIO(self.data[start:]), info
        return FromStart(io.BytesIO(self.data)), info

    def translate_error(self, exc, name):
        return None

    def size(self, name):
        return len(self.data)


@pytest.mark.parametrize("ranges", [True, False], ids=["ranged", "from-start"])
def test_seeks_land_on_the_same_bytes_with_or_without_ranges(ranges):
    data = bytes(range(256)) * 20
    host = Host(data, ranges=ranges)
    with RemoteFile(host, "f.bin") as f:
        f.seek(3000)
        assert f.read(10) == data[3000:3010]
        f.seek(100)
        assert f.read(5) == data[100:105]
        f.seek(len(data) - 3)
        assert f.read() == data[-3:]
        f.seek(len(data) + 10)
        assert f.read() == b""
    assert host.opened[:3] == [0, 3000, 100]  # the service is asked for the offset either way
