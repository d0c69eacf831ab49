"""The shared reader's resumption and integrity rules (storages.core.resume, .checksums), on an
in-memory service whose streams break off where a test says: pure core logic, no SDK.
The same rules against every real emulator: tests/reliability."""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib

import pytest

from storages.core import (
    ChecksumMismatch,
    FromStart,
    ObjectChanged,
    ObjectInfo,
    RemoteFile,
    ServiceUnavailable,
)
from storages.core.checksums import DropboxContentHash, Verifier, decode


class Breaking(io.RawIOBase):
    """A stream over ``data`` from ``start`` that raises ServiceUnavailable at byte ``stop``."""

    def __init__(self, data: bytes, start: int, stop: int | None) -> None:
        self._data, self._pos, self._stop = data, start, stop

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._stop is not None and self._pos >= self._stop:
            raise ServiceUnavailable(f"cut at {self._pos}")
        end = len(self._data) if self._stop is None else self._stop
        n = min(len(buffer), end - self._pos, 1000)
        buffer[:n] = self._data[self._pos:self._pos + n]
        self._pos += n
        return n


class Service:
    """A FileHost whose n-th stream breaks at ``cuts[n]`` (None: runs to the end)."""

    part_size = 1024
    chunk_size = 4096
    decode_gzip = True
    read_resumes = 3
    checksums = True

    def __init__(self, data: bytes, cuts: list[int | None], *, ranges: bool = True, etag: str = "v1",
                 encoding: str | None = None, checksums: dict[str, bytes] | None = None) -> None:
        self.data, self.cuts, self.ranges, self.etag = data, list(cuts), ranges, etag
        self.encoding, self.checksums = encoding, checksums or {}
        self.opened: list[int] = []

    def _key(self, name: str) -> str:
        return name

    def endpoint(self) -> str:
        return "memory://"

    def _info(self) -> ObjectInfo:
        return ObjectInfo(size=len(self.data), etag=self.etag, content_encoding=self.encoding,
                          checksums=dict(self.checksums))

    def _stat(self, key: str) -> ObjectInfo:
        return self._info()

    def _open_stream(self, key: str, start: int):
        self.opened.append(start)
        stop = self.cuts.pop(0) if self.cuts else None
        if self.ranges:
            return Breaking(self.data, start, stop), self._info()
        return FromStart(Breaking(self.data, 0, stop)), self._info()

    def translate_error(self, exc, name):
        return None

    def unexpected_error(self, exc, name):
        return exc

    def size(self, name: str) -> int:
        return len(self.data)


DATA = bytes(range(256)) * 100  # 25,600 bytes


@pytest.mark.parametrize("ranges", [True, False], ids=["ranged", "from-start"])
def test_a_cut_read_resumes_from_the_byte_delivered(ranges):
    service = Service(DATA, [5000, 12000], ranges=ranges)
    assert RemoteFile(service, "f").read() == DATA
    assert service.opened == [0, 5000, 12000]  # each re-request starts where the last one stopped


def test_resumptions_are_bounded_then_the_error_leaves():
    service = Service(DATA, [1000, 2000, 3000, 4000, 5000])
    f = RemoteFile(service, "f")
    with pytest.raises(ServiceUnavailable, match="cut at 4000"):
        f.read()
    assert service.opened == [0, 1000, 2000, 3000]  # the first request and three resumptions


def test_a_seek_starts_a_new_budget():
    service = Service(DATA, [1000, 2000, 3000, None, 9000, None])
    with RemoteFile(service, "f") as f:
        assert f.read(5000) == DATA[:5000]
        f.seek(8000)
        assert f.read() == DATA[8000:]


def test_a_replaced_object_is_an_error_not_spliced_bytes():
    service = Service(DATA, [5000])
    f = RemoteFile(service, "f")
    service.etag = "v2"  # replaced while the first stream was being read
    with pytest.raises(ObjectChanged, match="replaced while it was being read"):
        f.read()


def test_a_stream_ending_before_the_size_is_resumed():
    class Short(Service):
        def _open_stream(self, key, start):
            stream, info = super()._open_stream(key, start)
            return io.BytesIO(self.data[start:start + 3000] if start == 0 else self.data[start:]), info

    service = Short(DATA, [])
    assert RemoteFile(service, "f").read() == DATA
    assert service.opened == [0, 3000]


def test_a_gzipped_object_resumes_in_its_raw_bytes():
    raw = gzip.compress(DATA * 4)
    service = Service(raw, [len(raw) // 3], encoding="gzip")
    assert RemoteFile(service, "f").read() == DATA * 4
    assert service.opened == [0, len(raw) // 3]


@pytest.mark.parametrize("algorithm", ["crc32", "md5", "sha256", "crc32c", "dropbox"])
def test_a_whole_read_is_checked_against_the_service_digest(algorithm):
    good = Verifier(algorithm, b"")._hasher
    good.update(DATA)
    service = Service(DATA, [7000], checksums={algorithm: good.digest()})
    assert RemoteFile(service, "f").read() == DATA  # resumed, and the whole still checked
    service = Service(DATA, [], checksums={algorithm: b"\0" * len(good.digest())})
    with pytest.raises(ChecksumMismatch, match=algorithm):
        RemoteFile(service, "f").read()


def test_a_partial_read_is_not_checked():
    service = Service(DATA, [], checksums={"md5": b"\0" * 16})
    with RemoteFile(service, "f") as f:
        f.seek(100)
        assert f.read() == DATA[100:]  # no digest covers a part of the object


def test_digests_decode_as_services_send_them():
    assert decode("DUoRhQ==") == zlib.crc32(b"hello world").to_bytes(4, "big")
    assert decode("XrY7u+Ae7tCTyyK7j1rNww==") == hashlib.md5(b"hello world").digest()
    assert decode(None) is None and decode("not a digest!") is None


def test_the_dropbox_content_hash_is_the_documented_one():
    # https://www.dropbox.com/developers/reference/content-hash: SHA-256 of the blocks' SHA-256s.
    data = b"x" * (4 * 1024 * 1024 + 10)
    blocks = [data[:4 * 1024 * 1024], data[4 * 1024 * 1024:]]
    expected = hashlib.sha256(b"".join(hashlib.sha256(b).digest() for b in blocks)).hexdigest()
    for pieces in ([data], [data[:3], data[3:5_000_000], data[5_000_000:]]):
        hasher = DropboxContentHash()
        for piece in pieces:
            hasher.update(piece)
        assert hasher.hexdigest() == expected
