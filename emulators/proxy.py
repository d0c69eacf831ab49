"""An HTTP-aware proxy in front of an HTTP emulator: counts requests, injects faults.

Point a backend at ``proxy.endpoint`` instead of the emulator's. Every request
is recorded as ``(method, path)``; ``inject()`` asks for "the next N calls of
operation X return a status / reset the connection / stall T seconds / cut the
body after K bytes", and ``fired`` reports which faults fired. Bodies stream in
both directions in 64 KiB chunks, so memory does not grow with object size.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

CHUNK = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


@dataclass
class Fault:
    """What to do to the next ``times`` requests matching ``method``/``path_contains``."""

    method: str | None = None
    path_contains: str | None = None
    times: int = 1
    status: int | None = None
    reset: bool = False
    stall: float = 0.0
    cut_after: int | None = None
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.fired < self.times
                and (self.method is None or self.method == method)
                and (self.path_contains is None or self.path_contains in path))


@dataclass
class _State:
    requests: list[tuple[str, str]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    fired: list[tuple[str, str, str]] = field(default_factory=list)
    in_flight: int = 0
    peak: int = 0  # most requests in flight at once since the last counting() began
    lock: threading.Lock = field(default_factory=threading.Lock)


class CountingProxy:
    """A threaded HTTP/1.1 proxy on 127.0.0.1 forwarding to ``upstream`` (host, port)."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.state = _State()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle -------------------------------------------------------------
    def start(self) -> "CountingProxy":
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> "CountingProxy":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the proxy first"
        return self._server.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # counting ----------------------------------------------------------------
    @property
    def requests(self) -> list[tuple[str, str]]:
        with self.state.lock:
            return list(self.state.requests)

    def count(self) -> int:
        with self.state.lock:
            return len(self.state.requests)

    def counting(self) -> "_Counter":
        """``with proxy.counting() as c: ...`` then ``c.count`` / ``c.requests`` / ``c.peak``
        (the most requests in flight at once during the block)."""
        return _Counter(self)

    def _in_flight(self, change: int) -> None:
        with self.state.lock:
            self.state.in_flight += change
            self.state.peak = max(self.state.peak, self.state.in_flight)

    # faults ------------------------------------------------------------------
    def inject(self, **kwargs: Any) -> Fault:
        fault = Fault(**kwargs)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    @property
    def fired(self) -> list[tuple[str, str, str]]:
        with self.state.lock:
            return list(self.state.fired)

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()
            self.state.fired.clear()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self.state.lock:
            self.state.requests.append((method, path))
            for fault in self.state.faults:
                if fault.matches(method, path):
                    fault.fired += 1
                    kind = ("status" if fault.status else "reset" if fault.reset
                            else "cut" if fault.cut_after is not None else "stall")
                    self.state.fired.append((method, path, kind))
                    return fault
        return None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that drop their connection (or faults we injected) are not errors here."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Counter:
    def __init__(self, proxy: CountingProxy) -> None:
        self._proxy = proxy
        self._start = 0
        self.requests: list[tuple[str, str]] = []
        self.peak = 0

    def __enter__(self) -> "_Counter":
        self._start = self._proxy.count()
        with self._proxy.state.lock:
            self._proxy.state.peak = self._proxy.state.in_flight
        return self

    def __exit__(self, *exc: Any) -> None:
        self.requests = self._proxy.requests[self._start:]
        self.peak = self._proxy.state.peak

    @property
    def count(self) -> int:
        return len(self.requests)


class _Handler(BaseHTTPRequestHandler):
    proxy: CountingProxy
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def finish(self) -> None:
        """Close the upstream connection with the client's."""
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None
        super().finish()

    def _upstream(self) -> http.client.HTTPConnection:
        conn = getattr(self, "_conn", None)
        if conn is None:
            conn = self._conn = http.client.HTTPConnection(*self.proxy.upstream, timeout=300)
        return conn

    def _request_body(self) -> Iterator[bytes] | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return None
        return self._read_exact(length)

    def _read_exact(self, length: int) -> Iterator[bytes]:
        while length > 0:
            data = self.rfile.read(min(CHUNK, length))
            if not data:
                return
            length -= len(data)
            yield data

    def _read_chunked(self) -> Iterator[bytes]:
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return
            yield from self._read_exact(size)
            self.rfile.readline()

    def _reset_connection(self) -> None:
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _forward(self) -> None:
        self.proxy._in_flight(+1)
        try:
            self._forward_one()
        finally:
            self.proxy._in_flight(-1)

    def _forward_one(self) -> None:
        fault = self.proxy._take_fault(self.command, self.path)
        body = self._request_body()
        if fault is not None and (fault.status or fault.reset):
            for _ in body or ():  # drain the request so the client sees our answer
                pass
            if fault.reset:
                self._reset_connection()
                return
            payload = b"injected fault"
            self.send_response(fault.status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":  # a HEAD answer has no body, whatever its length says
                self.wfile.write(payload)
            return
        if fault is not None and fault.stall:
            time.sleep(fault.stall)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        chunked = body is not None and "content-length" not in {k.lower() for k in headers}
        conn = self._upstream()
        try:
            conn.request(self.command, self.path, body=body, headers=headers, encode_chunked=chunked)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException):
            self._conn = None
            conn.close()
            self._reset_connection()
            return
        self.send_response_only(response.status, response.reason)
        length = response.getheader("Content-Length")
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        if length is None and self.command != "HEAD" and response.status not in (204, 304):
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._relay(response, length is None and self.command != "HEAD"
                    and response.status not in (204, 304), fault)

    def _relay(self, response: http.client.HTTPResponse, chunked: bool, fault: Fault | None) -> None:
        sent = 0
        while True:
            data = response.read(CHUNK)
            if not data:
                break
            if fault is not None and fault.cut_after is not None and sent + len(data) > fault.cut_after:
                self.wfile.write(data[: max(0, fault.cut_after - sent)])
                self.wfile.flush()
                self._reset_connection()
                self._conn = None
                return
            sent += len(data)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _forward
