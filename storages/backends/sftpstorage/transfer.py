"""Pipelined SFTP transfers on paramiko: many 32 KiB requests in flight, bounded.

paramiko's ``SFTPFile`` either waits for each request (slow), prefetches a whole
file (memory grows with it, and closing early drains it all) or pipelines writes
whose replies it may drop. These streams keep a fixed window of requests in
flight, so memory is bounded by the window, and they check every reply.
"""

from __future__ import annotations

import collections
from typing import Any

_REQUEST = 32768  # bytes per read/write request, as paramiko sends them


class _Pipe:
    """Many requests in flight on one open remote file.

    Uses paramiko's request/reply calls (``_async_request``/``_read_response``)
    the way its own prefetch does. paramiko hands each reply to
    ``_async_response`` whoever reads it off the wire, so other calls on the
    same connection in between are safe, and errors are never dropped."""

    def __init__(self, handle: Any, window: int) -> None:
        self._handle = handle
        self._sftp = handle.sftp
        self._depth = max(1, window // _REQUEST)
        self._inflight: collections.deque[Any] = collections.deque()
        self._replies: dict[int, Any] = {}
        self.conn: Any = None  # the storage's connection object, kept alive while in use

    def _async_response(self, kind: int, msg: Any, num: int) -> None:
        from paramiko.sftp import CMD_DATA

        if kind == CMD_DATA:
            self._replies[num] = msg.get_string()
            return
        try:
            self._sftp._convert_status(msg)
            self._replies[num] = b""
        except EOFError:
            self._replies[num] = b""
        except Exception as exc:  # the server's error for this request, raised to the caller
            self._replies[num] = exc

    def _send(self, kind: int, *args: Any) -> int:
        return self._sftp._async_request(self, kind, self._handle.handle, *args)

    def _reply(self, num: int) -> bytes:
        while num not in self._replies:
            self._sftp._read_response()
        reply = self._replies.pop(num)
        if isinstance(reply, Exception):
            raise reply
        return reply


class ReadStream(_Pipe):
    """Reads a remote file from ``start`` with ``window`` bytes of requests in flight:
    a new 32 KiB request goes out as each reply is consumed, so memory stays at
    the window however large the file, and closing early drains one window."""

    def __init__(self, handle: Any, start: int, size: int, window: int) -> None:
        super().__init__(handle, window)
        self._size = size
        self._next = start  # first offset not yet requested
        self._current = memoryview(b"")

    def _request(self) -> None:
        from paramiko.sftp import CMD_READ, int64

        while len(self._inflight) < self._depth and self._next < self._size:
            length = min(_REQUEST, self._size - self._next)
            self._inflight.append((self._send(CMD_READ, int64(self._next), length), self._next, length))
            self._next += length

    def _refill(self) -> bool:
        self._request()
        if not self._inflight:
            return False
        num, offset, length = self._inflight.popleft()
        data = self._reply(num)
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

    def close(self) -> None:
        self._inflight.clear()
        self._handle.close()  # its reply comes after ours: paramiko hands those to us


class WriteStream(_Pipe):
    """Writes sequentially with ``window`` bytes of 32 KiB writes in flight."""

    def __init__(self, handle: Any, window: int) -> None:
        super().__init__(handle, window)
        self.offset = 0

    def write(self, data: bytes) -> None:
        from paramiko.sftp import CMD_WRITE, int64

        view = memoryview(data)
        for start in range(0, len(view), _REQUEST):
            if len(self._inflight) >= self._depth:
                self._reply(self._inflight.popleft())
            chunk = view[start:start + _REQUEST]
            self._inflight.append(self._send(CMD_WRITE, int64(self.offset), chunk))
            self.offset += len(chunk)

    def flush(self) -> None:
        """Wait until the server has confirmed every write (raising its first error)."""
        while self._inflight:
            self._reply(self._inflight.popleft())
