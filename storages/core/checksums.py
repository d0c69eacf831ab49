"""Integrity checks end to end: the digests services compute, computed here as bytes stream.

Writes send the service's check (each backend its own way: S3 CRC32, GCS CRC32C, Azure
Content-MD5 per block, Dropbox's content hash), so the service refuses bytes damaged on the
way. Reads verify: a backend puts the digests the service reports in
``ObjectInfo.checksums`` (algorithm name -> raw digest bytes), and the shared reader feeds
every byte of a read from the first byte through a :class:`Verifier`, which raises
:class:`~storages.core.errors.ChecksumMismatch` when the last byte arrived and the digest
differs. Damaged bytes are an error, never data.

Algorithms: ``crc32c``, ``crc32``, ``md5``, ``sha256``, ``sha1`` and ``dropbox`` (Dropbox's content
hash: SHA-256 over the SHA-256 of each 4 MiB block). ``crc32c`` needs ``google-crc32c``
(installed with the google extra); without it a CRC32C is not checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import threading
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Mapping, Protocol

from .errors import ChecksumMismatch

DROPBOX_BLOCK = 4 * 1024 * 1024
#: A read's chunk at least this long is hashed on a helper thread while the next chunk arrives.
OVERLAP_MIN = 256 * 1024
_POOL: tuple[int, ThreadPoolExecutor] | None = None
_POOL_LOCK = threading.Lock()


class Hasher(Protocol):
    def update(self, data: Any) -> None: ...

    def digest(self) -> bytes: ...


class Crc32:
    """zlib's CRC32 as a hasher (big-endian digest, as S3 sends it)."""

    def __init__(self) -> None:
        self.value = 0

    def update(self, data: Any) -> None:
        self.value = zlib.crc32(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


_CRC32_POLY = 0xEDB88320  # zlib's CRC32 polynomial, bit-reversed


def _multmodp(a: int, b: int) -> int:
    """a(x) * b(x) modulo the CRC32 polynomial (bit-reversed, as zlib's crc32.c)."""
    m, product = 1 << 31, 0
    while True:
        if a & m:
            product ^= b
            if not a & (m - 1):
                return product
        m >>= 1
        b = (b >> 1) ^ _CRC32_POLY if b & 1 else b >> 1


def _x2n_table() -> list[int]:
    power, table = 1 << 30, []  # x^1
    for _ in range(32):
        table.append(power)
        power = _multmodp(power, power)
    return table


_X2N = _x2n_table()  # x^(2^n) modulo the polynomial


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """The CRC32 of ``A + B`` from ``crc32(A)``, ``crc32(B)`` and ``len(B)`` (zlib's
    crc32_combine, which Python's zlib does not expose): parts hashed on several threads,
    in any order, give the whole's CRC32 without a second pass over the bytes."""
    power, n, k = 1 << 31, length2, 3  # x^0; multiply by x^(8 * length2)
    while n:
        if n & 1:
            power = _multmodp(_X2N[k & 31], power)
        n >>= 1
        k += 1
    return _multmodp(power, crc1) ^ crc2


class Crc32c:
    """CRC32C (Castagnoli) via google-crc32c (big-endian digest, as GCS sends it)."""

    def __init__(self) -> None:
        import google_crc32c

        self._checksum = google_crc32c.Checksum()

    def update(self, data: Any) -> None:
        self._checksum.update(bytes(data) if isinstance(data, memoryview) else data)

    def digest(self) -> bytes:
        return self._checksum.digest()


class DropboxContentHash:
    """Dropbox's content hash: SHA-256 of the concatenated SHA-256 digests of 4 MiB blocks."""

    def __init__(self) -> None:
        self._whole = hashlib.sha256()
        self._block = hashlib.sha256()
        self._in_block = 0

    def update(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        while view:
            take = min(len(view), DROPBOX_BLOCK - self._in_block)
            self._block.update(view[:take])
            self._in_block += take
            view = view[take:]
            if self._in_block == DROPBOX_BLOCK:
                self._whole.update(self._block.digest())
                self._block, self._in_block = hashlib.sha256(), 0

    def digest(self) -> bytes:
        whole = self._whole.copy()
        if self._in_block:
            whole.update(self._block.digest())
        return whole.digest()

    def hexdigest(self) -> str:
        return self.digest().hex()


def _crc32c_available() -> bool:
    try:
        import google_crc32c  # noqa: F401
    except ImportError:
        return False
    return True


#: Algorithms in the order a read prefers them (cheapest first).
ALGORITHMS: dict[str, Callable[[], Hasher]] = {
    "crc32c": Crc32c,
    "crc32": Crc32,
    "md5": hashlib.md5,
    "sha256": hashlib.sha256,
    "sha1": hashlib.sha1,
    "dropbox": DropboxContentHash,
}


def hasher(algorithm: str) -> Hasher:
    """A fresh hasher for ``algorithm`` (a key of :data:`ALGORITHMS`)."""
    return ALGORITHMS[algorithm]()


def decode(value: str | None) -> bytes | None:
    """A base64 digest as services send it in headers (S3, GCS, Azure), or None."""
    if not value:
        return None
    try:
        return base64.b64decode(value.strip().strip('"'), validate=True) or None
    except (binascii.Error, ValueError):
        return None


def _hash_pool() -> ThreadPoolExecutor:
    """The process's hashing threads (made anew in a forked child: the parent's do not exist there)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL[0] != os.getpid():
            _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=4, thread_name_prefix="storages-hash"))
        return _POOL[1]


class Verifier:
    """Checks the bytes of one whole read against one digest the service reported.

    A large chunk (immutable ``bytes`` of at least :data:`OVERLAP_MIN`) is hashed on a helper
    thread while the reader fetches the next one (hashlib and zlib release the GIL on large
    buffers); chunks stay in order, at most one is pending, and ``check`` waits for it."""

    def __init__(self, algorithm: str, expected: bytes) -> None:
        self.algorithm = algorithm
        self.expected = expected
        self._hasher = hasher(algorithm)
        self._pending: Future[None] | None = None

    @classmethod
    def pick(cls, checksums: Mapping[str, bytes]) -> Verifier | None:
        """A verifier for the cheapest algorithm of ``checksums`` this process can compute."""
        for algorithm in ALGORITHMS:
            expected = checksums.get(algorithm)
            if expected and (algorithm != "crc32c" or _crc32c_available()):
                return cls(algorithm, expected)
        return None

    def update(self, data: Any) -> None:
        self._wait()
        if type(data) is bytes and len(data) >= OVERLAP_MIN:
            self._pending = _hash_pool().submit(self._hasher.update, data)
        else:
            self._hasher.update(data)

    def _wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def check(self, what: str) -> None:
        """Raise ChecksumMismatch if the bytes seen differ from what the service stored."""
        self._wait()
        got = self._hasher.digest()
        if got != self.expected:
            raise ChecksumMismatch(
                f"{what}: the bytes received do not match the object's {self.algorithm} "
                f"({base64.b64encode(got).decode()} received, {base64.b64encode(self.expected).decode()} "
                "stored); they were damaged in transit")
