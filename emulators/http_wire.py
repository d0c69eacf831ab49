"""Just enough HTTP/1.1 for the observation proxy (emulators.proxy): heads, bodies, upstreams.

Heads are read line by line and written back as they came (names and values kept
byte for byte through latin-1), bodies stream in 64 KiB chunks, so a request costs
the proxy a few string operations rather than a full header parse each way.
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import tempfile
from typing import Any, BinaryIO, Iterator

CHUNK = 64 * 1024
MAX_LINE = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
              "upgrade", "expect"}


class ProtocolError(ValueError):
    """A message the proxy cannot read."""


_CONTENT_RANGE = re.compile(r"bytes (\*|(\d+)-(\d+))/(\*|\d+)")


def content_range(value: str) -> tuple[int | None, int | None, int | None] | None:
    """``Content-Range: bytes a-b/total`` as ``(a, b, total)``, ``*`` as None (``bytes */*``:
    all three None); None if the value is not such a range."""
    match = _CONTENT_RANGE.fullmatch(value.strip())
    if match is None:
        return None
    start, end, total = match.group(2), match.group(3), match.group(4)
    return (int(start) if start else None, int(end) if end else None, None if total == "*" else int(total))


class Headers:
    """Header fields in their order, looked up case-insensitively (first value wins)."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self.fields = fields
        self._index: dict[str, list[str]] = {}
        for name, value in fields:
            self._index.setdefault(name.lower(), []).append(value)

    def get(self, name: str, default: Any = None) -> Any:
        values = self._index.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str) -> list[str] | None:
        return self._index.get(name.lower())

    def items(self) -> list[tuple[str, str]]:
        return list(self.fields)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def without_hop_by_hop(self) -> list[tuple[str, str]]:
        return [(name, value) for name, value in self.fields if name.lower() not in HOP_BY_HOP]


def read_head(rfile: BinaryIO) -> tuple[str, Headers] | None:
    """The start line and header fields of the next message; ``None`` at the end of the stream."""
    line = rfile.readline(MAX_LINE + 1)
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE or not line.endswith(b"\n"):
        raise ProtocolError("start line too long or cut short")
    fields: list[tuple[str, str]] = []
    while True:
        raw = rfile.readline(MAX_LINE + 1)
        if raw in (b"\r\n", b"\n"):
            break
        if not raw or len(raw) > MAX_LINE:
            raise ProtocolError("header cut short or too long")
        name, sep, value = raw.decode("latin-1").partition(":")
        if sep:
            fields.append((name.strip(), value.strip()))
    return line.decode("latin-1").rstrip("\r\n"), Headers(fields)


def encode_head(start_line: str, fields: list[tuple[str, str]]) -> bytes:
    return (start_line + "\r\n" + "".join(f"{name}: {value}\r\n" for name, value in fields)
            + "\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body."""
    return b"%x\r\n%s\r\n" % (len(data), data)


LAST_CHUNK = b"0\r\n\r\n"


class Body:
    """A message body as it arrives: framed by Content-Length, chunked, until the connection
    closes, or absent. Peekable and spoolable (for checks that need it); iterated once."""

    def __init__(self, rfile: BinaryIO, mode: str, length: int = 0) -> None:
        self._rfile = rfile
        self.mode = mode  # "none", "length", "chunked" or "eof"
        self.remaining = length if mode == "length" else 0
        self._chunk_left = 0
        self._head = b""
        self._spool: Any = None
        self._spool_position = 0
        self._done = mode == "none" or (mode == "length" and not length)
        self.received = 0

    @classmethod
    def of_request(cls, rfile: BinaryIO, headers: Headers) -> "Body":
        if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
            return cls(rfile, "chunked")
        length = int(headers.get("Content-Length") or 0)
        return cls(rfile, "length" if length else "none", length)

    @classmethod
    def of_response(cls, rfile: BinaryIO, headers: Headers, method: str, status: int) -> "Body":
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return cls(rfile, "none")
        if "chunked" in (headers.get("Transfer-Encoding") or "").lower():
            return cls(rfile, "chunked")
        if headers.get("Content-Length") is not None:
            length = int(headers.get("Content-Length"))
            return cls(rfile, "length" if length else "none", length)
        return cls(rfile, "eof")

    @property
    def chunked(self) -> bool:
        return self.mode == "chunked"

    @property
    def empty(self) -> bool:
        return self.mode == "none"

    @property
    def exhausted(self) -> bool:
        """Known to have nothing more (a Content-Length body read to its end)."""
        return self._done or (self.mode == "length" and self.remaining <= 0 and not self._head)

    def read(self) -> bytes:
        """The next piece of the body (``b""`` at its end)."""
        if self._head:
            head, self._head = self._head, b""
            return head
        if self._spool is not None:
            self._spool.seek(self._spool_position)
            data = self._spool.read(CHUNK)
            self._spool_position += len(data)
            return data
        if self._done:
            return b""
        data = self._read_chunked() if self.mode == "chunked" else self._read_some()
        if not data:
            self._done = True
            if self.mode == "length" and self.remaining > 0:
                raise ConnectionError(f"the body stopped {self.remaining} bytes short")
        self.received += len(data)
        return data

    def _read_some(self) -> bytes:
        if self.mode == "eof":
            return self._rfile.read1(CHUNK) if hasattr(self._rfile, "read1") else self._rfile.read(CHUNK)
        if self.remaining <= 0:
            return b""
        data = self._rfile.read(min(CHUNK, self.remaining))
        self.remaining -= len(data)
        return data

    def _read_chunked(self) -> bytes:
        if self._chunk_left == 0:
            line = self._rfile.readline(MAX_LINE)
            if not line:
                raise ConnectionError("a chunked body stopped short")
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self._rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b""
            self._chunk_left = size
        data = self._rfile.read(min(CHUNK, self._chunk_left))
        if not data:
            raise ConnectionError("a chunked body stopped short")
        self._chunk_left -= len(data)
        if self._chunk_left == 0:
            self._rfile.readline(MAX_LINE)
        return data

    def peek(self, n: int) -> bytes:
        """Up to ``n`` first bytes of the body; they are still read afterwards."""
        if self._spool is not None:
            self._spool.seek(0)
            return self._spool.read(n)
        while len(self._head) < n and not self._done:
            head, self._head = self._head, b""
            self._head = head + self.read()
        return self._head[:n]

    def spool(self) -> BinaryIO:
        """The whole body in a temporary file (in memory up to 1 MiB); still read afterwards."""
        if self._spool is None:
            spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
            for data in iter(self.read, b""):
                spool.write(data)
            self._spool, self._spool_position = spool, 0
        self._spool.seek(0)
        return self._spool

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.read, b"")

    def drain(self) -> None:
        for _ in self:
            pass


class Upstream:
    """The proxy's keep-alive connection to the service, for one client connection."""

    def __init__(self, address: tuple[str, int], tls: ssl.SSLContext | None) -> None:
        self.address = address
        self.tls = tls
        self.sock: socket.socket | None = None
        self.rfile: BinaryIO | None = None
        self.reused = False

    def ready(self) -> "Upstream":
        """Connected, on a fresh connection if the service closed the idle one."""
        if self.sock is not None and self._closed_by_peer():
            self.close()
        if self.sock is None:
            sock = socket.create_connection(self.address, timeout=300)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls is not None:
                sock = self.tls.wrap_socket(sock, server_hostname=self.address[0])
            self.sock, self.rfile, self.reused = sock, sock.makefile("rb", CHUNK), False
        else:
            self.reused = True
        return self

    def _closed_by_peer(self) -> bool:
        assert self.sock is not None
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)  # an idle connection with something to read has been closed

    def send(self, data: bytes) -> None:
        assert self.sock is not None
        self.sock.sendall(data)

    def close(self) -> None:
        if self.rfile is not None:
            self.rfile.close()
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = self.rfile = None
