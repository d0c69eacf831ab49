"""The shared reader over streams that only offer ``read()`` (HTTP response bodies, e.g.
Dropbox's): large binary reads take the stream's bytes without a copy, digests of large chunks
are computed on a helper thread; bytes, positions and checks stay what they were. Pure core
logic on an in-memory service (tests/core/test_resume.py's)."""

from __future__ import annotations

import hashlib
import io
import os
import sys

import pytest

from storages.core import ChecksumMismatch, RemoteFile
from storages.core.checksums import OVERLAP_MIN, DropboxContentHash
from storages.core.files import DIRECT_READ_BUFFER

from .test_resume import Service

DATA = os.urandom(3 * OVERLAP_MIN + 1234)


class ReadOnly:
    """A stream with ``read`` alone: ``n`` bytes a call as urllib3 gives them (``most`` None), or
    at most ``most`` (a socket's short reads)."""

    def __init__(self, stream, most: int | None) -> None:
        self._stream, self._most = stream, most

    def read(self, n: int = -1) -> bytes:
        buffer = bytearray(n if self._most is None else min(n, self._most))
        view, filled = memoryview(buffer), 0
        while filled < len(buffer):
            count = self._stream.readinto(view[filled:])
            if not count:
                break
            filled += count
            if self._most is not None:
                break
        return bytes(buffer[:filled])

    def close(self) -> None:
        self._stream.close()


class BytesService(Service):
    chunk_size = OVERLAP_MIN  # 1 MiB reads on a 1 MiB chunk size, scaled down
    most: int | None = None

    def _open_stream(self, key, start):
        stream, info = super()._open_stream(key, start)
        return ReadOnly(stream, self.most), info


@pytest.fixture(params=[None, 100_000], ids=["whole-reads", "short-reads"])
def most(request, monkeypatch):
    monkeypatch.setattr(BytesService, "most", request.param)


def whole(hasher) -> bytes:
    hasher.update(DATA)
    return hasher.digest()


def test_large_reads_mixed_with_small_reads_and_seeks_give_the_same_bytes_and_positions(most):
    with RemoteFile(BytesService(DATA, []), "f") as f:
        assert f.read(10) == DATA[:10]
        assert f.read(OVERLAP_MIN) == DATA[10:10 + OVERLAP_MIN]  # something buffered: the buffered route
        f.seek(5000)
        assert f.read(OVERLAP_MIN + 7) == DATA[5000:5000 + OVERLAP_MIN + 7]  # nothing buffered
        assert f.tell() == 5000 + OVERLAP_MIN + 7
        assert f.read(3) == DATA[5000 + OVERLAP_MIN + 7:5000 + OVERLAP_MIN + 10]
        f.seek(-4, 1)  # back inside what the buffer holds
        assert f.read(4) == DATA[5000 + OVERLAP_MIN + 6:5000 + OVERLAP_MIN + 10]
        f.seek(len(DATA) - 100)
        assert f.read(OVERLAP_MIN) == DATA[-100:]
        assert f.read(OVERLAP_MIN) == b""
        f.seek(0)
        assert f.read() == DATA


@pytest.mark.parametrize("algorithm, make", [("sha256", hashlib.sha256), ("dropbox", DropboxContentHash)])
def test_a_whole_read_in_large_chunks_is_checked(algorithm, make, most):
    good = BytesService(DATA, [], checksums={algorithm: whole(make())})
    with RemoteFile(good, "f") as f:
        assert b"".join(iter(lambda: f.read(OVERLAP_MIN), b"")) == DATA
    bad = BytesService(DATA, [], checksums={algorithm: bytes(32)})
    with pytest.raises(ChecksumMismatch, match=algorithm), RemoteFile(bad, "f") as f:
        while f.read(OVERLAP_MIN):
            pass


def test_a_large_read_that_breaks_off_resumes_and_is_still_checked(most):
    service = BytesService(DATA, [OVERLAP_MIN + 3000], checksums={"sha256": whole(hashlib.sha256())})
    with RemoteFile(service, "f") as f:
        assert b"".join(iter(lambda: f.read(OVERLAP_MIN), b"")) == DATA
    assert service.opened[0] == 0 and len(service.opened) == 2  # from the last byte delivered


def test_seeking_inside_the_buffer_right_after_a_large_read(most):
    with RemoteFile(BytesService(DATA, []), "f") as f:
        assert f.read(OVERLAP_MIN) == DATA[:OVERLAP_MIN]
        assert f.read(10) == DATA[OVERLAP_MIN:OVERLAP_MIN + 10]  # fills the buffer
        assert f.seek(OVERLAP_MIN + 2) == OVERLAP_MIN + 2  # inside it: no new request
        assert f.read(4) == DATA[OVERLAP_MIN + 2:OVERLAP_MIN + 6]
        assert f.seek(-3, 1) == OVERLAP_MIN + 3
        assert f.read(2) == DATA[OVERLAP_MIN + 3:OVERLAP_MIN + 5]
        assert f.seek(7) == 7  # before the buffer (a buffer unaware of the large read would look inside)
        assert f.read(5) == DATA[7:12]


# -- streams that receive into buffers themselves (FTP's data socket, SFTP's read window) ----------

class ShortReceives:
    """A stream with ``readinto`` that fills at most 100,000 bytes a call (a socket's receives)."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def readinto(self, buffer) -> int:
        return self._stream.readinto(memoryview(buffer)[:100_000])

    def close(self) -> None:
        self._stream.close()


class SocketService(Service):
    chunk_size = 4 * DIRECT_READ_BUFFER

    def _open_stream(self, key, start):
        stream, info = super()._open_stream(key, start)
        return ShortReceives(stream), info


def test_over_a_receiving_stream_the_buffer_is_small_so_large_reads_land_in_the_returned_bytes():
    # A read larger than the BufferedReader's buffer receives straight into the bytes it returns;
    # with a chunk-sized buffer all but its first receive would be copied through the buffer.
    empty = sys.getsizeof(io.BufferedReader(io.BytesIO(), 1)) - 1
    with RemoteFile(SocketService(DATA, []), "f") as f:
        assert sys.getsizeof(f.file) - empty == DIRECT_READ_BUFFER
    with RemoteFile(BytesService(DATA, []), "f") as f:  # read() alone: the chunk-sized buffer stays
        assert sys.getsizeof(f.file) - empty == BytesService.chunk_size


def test_over_a_receiving_stream_mixed_reads_and_seeks_give_the_same_bytes_and_positions():
    chunk = SocketService.chunk_size
    with RemoteFile(SocketService(DATA, [], checksums={"sha256": whole(hashlib.sha256())}), "f") as f:
        assert f.read(10) == DATA[:10]
        assert f.read(chunk) == DATA[10:10 + chunk]
        assert f.read(DIRECT_READ_BUFFER + 1) == DATA[10 + chunk:11 + chunk + DIRECT_READ_BUFFER]
        f.seek(-5, 1)
        assert f.read(5) == DATA[6 + chunk + DIRECT_READ_BUFFER:11 + chunk + DIRECT_READ_BUFFER]
        f.seek(3)
        assert b"".join(iter(lambda: f.read(chunk), b"")) == DATA[3:]
        f.seek(0)
        assert b"".join(iter(lambda: f.read(chunk), b"")) == DATA  # whole, so checked: no error
