"""Pipelined SFTP transfers: many requests of up to 32 KiB in flight, bounded.

paramiko's ``SFTPFile`` either waits for each request (slow), prefetches a whole
file (memory grows with it, and closing early drains it all) or pipelines writes
whose replies it may drop. These streams keep a fixed window of requests in
flight, so memory is bounded by the window, and they check every reply. The
requests themselves go through ``.paramiko_private``.
"""

from __future__ import annotations

import collections
from typing import Any

from .paramiko_private import Requests, read_size, write_size


class _Window:
    """Up to ``window`` bytes of requests in flight on one open remote file."""

    def __init__(self, handle: Any, window: int, request_size: int) -> None:
        self._handle = handle
        self._requests = Requests(handle)
        self._request_size = request_size  # sized so that each request or reply is one SSH packet
        self._depth = max(1, window // request_size)
        self._inflight: collections.deque[Any] = collections.deque()
        self.conn: Any = None  # the storage's connection object, kept alive while in use


class ReadStream(_Window):
    """Reads a remote file from ``start`` with ``window`` bytes of requests in flight:
    new requests go out (in batches) as replies are consumed, so memory stays at
    the window however large the file, and closing early drains one window."""

    def __init__(self, handle: Any, start: int, size: int, window: int) -> None:
        super().__init__(handle, window, read_size(handle))
        self._size = size
        self._next = start  # first offset not yet requested
        self._current = memoryview(b"")

    def _request(self) -> None:
        # Top up in batches (once half the window is consumed), each batch one write.
        if len(self._inflight) > self._depth // 2 or self._next >= self._size:
            return
        pieces = []
        for _ in range(self._depth - len(self._inflight)):
            if self._next >= self._size:
                break
            length = min(self._request_size, self._size - self._next)
            pieces.append((self._next, length))
            self._next += length
        nums = self._requests.read_many(pieces)
        self._inflight.extend((num, *piece) for num, piece in zip(nums, pieces, strict=True))

    def _refill(self) -> bool:
        self._request()
        if not self._inflight:
            return False
        num, offset, length = self._inflight.popleft()
        data = self._requests.reply(num)
        if 0 < len(data) < length:  # a short reply: fetch the rest of this piece synchronously
            self._handle.seek(offset + len(data))
            data += self._handle.read(length - len(data))
        if not data:  # the file shrank: stop here
            self._inflight.clear()
            self._next = self._size
            return False
        self._current = memoryview(data)
        return True

    def read(self, n: int = -1) -> bytes:
        pieces, got = [], 0
        while n < 0 or got < n:
            if not self._current and not self._refill():
                break
            take = len(self._current) if n < 0 else min(n - got, len(self._current))
            pieces.append(self._current[:take])
            self._current = self._current[take:]
            got += take
        return b"".join(pieces)

    def readinto(self, buffer: Any) -> int:
        """Copy the next bytes straight into ``buffer`` (the file's reads take this route)."""
        view, got = memoryview(buffer).cast("B"), 0
        while got < len(view):
            if not self._current and not self._refill():
                break
            take = min(len(view) - got, len(self._current))
            view[got:got + take] = self._current[:take]
            self._current = self._current[take:]
            got += take
        return got

    def close(self) -> None:
        self._inflight.clear()
        self._handle.close()  # its reply comes after ours: paramiko hands those to us


class WriteStream(_Window):
    """Writes sequentially with ``window`` bytes of writes in flight."""

    def __init__(self, handle: Any, window: int) -> None:
        super().__init__(handle, window, write_size(handle))
        self.offset = 0

    @property
    def handle(self) -> Any:
        """The open remote file (an ``SFTPFile``)."""
        return self._handle

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        size = self._request_size
        for start in range(0, len(view), size):
            if len(self._inflight) >= self._depth:
                self._requests.reply(self._inflight.popleft())
            chunk = view[start:start + size]
            self._inflight.append(self._requests.write(self.offset, chunk))
            self.offset += len(chunk)

    def flush(self) -> None:
        """Wait until the server has confirmed every write (raising its first error)."""
        while self._inflight:
            self._requests.reply(self._inflight.popleft())
