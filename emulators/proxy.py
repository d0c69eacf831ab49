"""The HTTP-aware proxy in front of each HTTP emulator: observes calls, injects faults.

:class:`HTTPFront` listens on 127.0.0.1 (plain HTTP, or TLS with the
emulator's certificate) and forwards to the service. For every request it
names the operation (emulators.classify), lets a verifier refuse it (presigned
URL checks, emulators.presign), asks the hub whether a fault fires, forwards or
disturbs it, and reports the call. Bodies stream both ways in 64 KiB chunks,
so memory does not grow with object size.

:class:`CountingProxy` is the older, stand-alone form: a proxy with its own
``(method, path)`` record and ``inject(method=..., path_contains=...)`` faults,
which this repository's backend tests put in front of an emulator.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import struct
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO, Callable, Iterator

from .classify import CLASSIFIERS, Classifier, HTTPRequest
from .faults import Fault
from .observe import HUB, Hub
from .ops import Call, Operation
from .service_errors import error_response

CHUNK = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
              "upgrade", "expect"}


@dataclass(frozen=True)
class Denial:
    """A request the front refuses itself, answering as the service would."""

    status: int
    code: str
    message: str
    details: str | None = None


#: ``verify(request, body) -> Denial | None``: checks a request before it is forwarded.
Verifier = Callable[[HTTPRequest, "RequestBody"], "Denial | None"]


class _Abort(Exception):
    """Stop sending the request upstream (a reset_before fault)."""


class RequestBody:
    """The request body as it arrives: peekable, spoolable, forwarded once."""

    def __init__(self, rfile: BinaryIO, headers: Any) -> None:
        self._rfile = rfile
        self.chunked = "chunked" in (headers.get("Transfer-Encoding") or "").lower()
        self.length = None if self.chunked else int(headers.get("Content-Length") or 0)
        self._left = self.length or 0
        self._head = b""
        self._spool: Any = None
        self._done = not self.chunked and not self.length
        self.received = 0

    @property
    def empty(self) -> bool:
        return not self.chunked and not self.length

    def _read(self) -> bytes:
        if self._done:
            return b""
        data = self._read_chunked() if self.chunked else self._read_length()
        if not data:
            self._done = True
        self.received += len(data)
        return data

    def _read_length(self) -> bytes:
        if self._left <= 0:
            return b""
        data = self._rfile.read(min(CHUNK, self._left))
        self._left -= len(data)
        return data

    def _read_chunked(self) -> bytes:
        if self._left == 0:
            size = int(self._rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self._rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b""
            self._left = size
        data = self._rfile.read(min(CHUNK, self._left))
        self._left -= len(data)
        if self._left == 0:
            self._rfile.readline()
        return data

    def peek(self, n: int) -> bytes:
        """Up to ``n`` first bytes of the body; they are still forwarded."""
        if self._spool is not None:
            self._spool.seek(0)
            return self._spool.read(n)
        while len(self._head) < n:
            data = self._read()
            if not data:
                break
            self._head += data
        return self._head[:n]

    def spool(self) -> BinaryIO:
        """The whole body in a temporary file (in memory up to 1 MiB); still forwarded."""
        if self._spool is None:
            spool = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)
            spool.write(self._head)
            self._head = b""
            for data in iter(self._read, b""):
                spool.write(data)
            self._spool = spool
        self._spool.seek(0)
        return self._spool

    def __iter__(self) -> Iterator[bytes]:
        if self._spool is not None:
            self._spool.seek(0)
            yield from iter(lambda: self._spool.read(CHUNK), b"")
            return
        head, self._head = self._head, b""
        if head:
            yield head
        yield from iter(self._read, b"")

    def drain(self) -> None:
        for _ in self:
            pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    front: "HTTPFront"

    def finish_request(self, request: Any, client_address: Any) -> None:
        raw = request
        self.front._track(raw, True)
        try:
            if self.front.tls_context is not None:
                request.settimeout(30)  # the handshake runs here, in the connection's own thread
                request = self.front.tls_context.wrap_socket(request, server_side=True)
                request.settimeout(None)
            self.RequestHandlerClass(request, client_address, self)
        finally:
            self.front._track(raw, False)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that drop their connection (or faults we injected) are not errors here."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, ssl.SSLError)):
            super().handle_error(request, client_address)


class HTTPFront:
    """A threaded HTTP/1.1 proxy on 127.0.0.1 in front of one service.

    ``service`` names the service for classification, error bodies and the
    hub's records (``None``: a plain proxy). ``tls=(certfile, keyfile)`` serves
    HTTPS; ``upstream_tls`` is the client context for an HTTPS upstream.
    ``upstream_host(request)`` may return the Host header to send upstream.
    ``bind()`` reserves the port; ``start(upstream)`` begins forwarding.
    """

    def __init__(self, service: str | None = None, *, host: str = "127.0.0.1",
                 classifier: Classifier | None = None, verifier: Verifier | None = None,
                 tls: tuple[str, str] | None = None, upstream_tls: ssl.SSLContext | None = None,
                 upstream_host: Callable[[HTTPRequest], str | None] | None = None, hub: Hub = HUB) -> None:
        self.service = service
        self.host = host
        self.classifier = classifier or (CLASSIFIERS[service]() if service in CLASSIFIERS else None)
        self.verifier = verifier
        self.hub = hub
        self.upstream: tuple[str, int] | None = None
        self.upstream_tls = upstream_tls
        self.upstream_host = upstream_host
        self.tls_context: ssl.SSLContext | None = None
        if tls is not None:
            self.tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls_context.load_cert_chain(*tls)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[Any] = set()
        self._lock = threading.Lock()

    # lifecycle -------------------------------------------------------------
    def bind(self) -> "HTTPFront":
        """Listen (on a free port); requests wait until ``start()``."""
        if self._server is None:
            handler = type("Handler", (_Handler,), {"front": self})
            self._server = _Server((self.host, 0), handler)
            self._server.front = self
        return self

    def start(self, upstream: tuple[str, int] | None = None) -> "HTTPFront":
        """Forward to ``upstream`` (host, port) from now on."""
        if upstream is not None:
            self.upstream = upstream
        self.bind()
        if self._thread is None:
            assert self._server is not None
            if self.service is not None:
                self.hub.note_serving()
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"front-{self.service}-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
                self._thread.join(timeout=5)
                self._thread = None
            self._server.server_close()
            self._server = None
        with self._lock:
            connections, self._connections = list(self._connections), set()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _track(self, connection: Any, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(connection)

    def __enter__(self) -> "HTTPFront":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "bind() or start() the proxy first"
        return self._server.server_address[1]

    @property
    def scheme(self) -> str:
        return "https" if self.tls_context is not None else "http"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    # what subclasses change ---------------------------------------------------
    def classify(self, request: HTTPRequest) -> Operation:
        if self.classifier is None:
            return Operation(request.method.lower(), "", request.path)
        return self.classifier.classify(request)

    def take_fault(self, request: HTTPRequest, operation: Operation) -> Fault | None:
        if self.service is None:
            return None
        return self.hub.take_fault(self.service, operation.name, operation.key)

    def record(self, request: HTTPRequest, operation: Operation, status: int | None, bytes_in: int,
               bytes_out: int, fault: Fault | None, headers: Any) -> None:
        if self.classifier is not None and status is not None:
            self.classifier.learn(request, operation, status, headers or {})
        if self.service is not None and self.hub.recording:
            self.hub.record(Call(self.service, operation.name, operation.key, status, bytes_in, bytes_out,
                                 operation.bucket, f"{request.method} {request.target}",
                                 fault.kind if fault else None))

    def error(self, status: int, request: HTTPRequest, *, code: str | None = None,
              message: str | None = None, details: str | None = None) -> tuple[list[tuple[str, str]], bytes]:
        if self.service is None:
            return [("Content-Type", "text/plain")], b"injected fault"
        return error_response(self.service, status, code=code, message=message, resource=request.target,
                              details=details)


class _Handler(BaseHTTPRequestHandler):
    front: HTTPFront
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def finish(self) -> None:
        """Close the upstream connection with the client's."""
        self._drop_upstream()
        super().finish()

    def _drop_upstream(self) -> None:
        conn = getattr(self, "_conn", None)
        if conn is not None:
            conn.close()
            self._conn = None

    def _upstream(self) -> http.client.HTTPConnection:
        conn = getattr(self, "_conn", None)
        if conn is None:
            assert self.front.upstream is not None, "the front has no upstream yet"
            host, port = self.front.upstream
            if self.front.upstream_tls is not None:
                conn = http.client.HTTPSConnection(host, port, timeout=300, context=self.front.upstream_tls)
            else:
                conn = http.client.HTTPConnection(host, port, timeout=300)
            self._conn = conn
        return conn

    def _reset_connection(self) -> None:
        """Drop the client's connection with a TCP reset."""
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass
        self._drop_upstream()

    def _close_cleanly(self) -> None:
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.close_connection = True
        self._drop_upstream()

    def _forward(self) -> None:
        front = self.front
        body = RequestBody(self.rfile, self.headers)
        request = HTTPRequest(self.command, self.path, self.headers, peek=body.peek)
        operation = front.classify(request)
        denial = front.verifier(request, body) if front.verifier is not None else None
        fault = None if denial is not None else front.take_fault(request, operation)
        reported: list[bool] = []

        def report(status: int | None, sent: int, headers: Any = None) -> None:
            """Record the call once, before the client can see it end (so a test that
            looks right after its call returns finds it)."""
            if not reported:
                reported.append(True)
                front.record(request, operation, status, body.received, sent, fault, headers)

        try:
            if fault is not None and fault.stall:
                time.sleep(fault.stall)
            if denial is not None:
                body.drain()  # so the client reads our answer, not a reset
                self._answer(request, denial.status, front.error(
                    denial.status, request, code=denial.code, message=denial.message, details=denial.details),
                    report)
            elif fault is not None and fault.status is not None:
                body.drain()
                self._answer(request, fault.status, front.error(
                    fault.status, request, code=fault.code, message=fault.message), report)
            elif fault is not None and fault.reset_before == 0:
                report(None, 0)
                self._reset_connection()
            else:
                self._relay(request, body, fault, report)
        finally:
            report(None, 0)  # an exception: the client got no (complete) answer

    def _answer(self, request: HTTPRequest, status: int, error: tuple[list[tuple[str, str]], bytes],
                report: Callable[..., None]) -> None:
        headers, payload = error
        if self.command == "HEAD":  # a HEAD answer has no body, whatever its length says
            report(status, 0)
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.command == "HEAD":
            self.end_headers()
            return
        report(status, len(payload))
        self.end_headers()
        self.wfile.write(payload)

    def _request_body(self, body: RequestBody, limit: int | None) -> Iterator[bytes]:
        sent = 0
        for data in body:
            if limit is not None and sent + len(data) >= limit:
                yield data[: limit - sent]
                raise _Abort
            sent += len(data)
            yield data

    def _relay(self, request: HTTPRequest, body: RequestBody, fault: Fault | None,
               report: Callable[..., None]) -> None:
        request_headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        host = self.front.upstream_host(request) if self.front.upstream_host is not None else None
        if host:
            request_headers["Host"] = host
        if body.chunked:
            request_headers.pop("Content-Length", None)
        limit = fault.reset_before if fault is not None else None
        conn = self._upstream()
        try:
            conn.request(self.command, self.path, headers=request_headers, encode_chunked=body.chunked,
                         body=None if body.empty else self._request_body(body, limit))
            response = conn.getresponse()
        except _Abort:
            report(None, 0)
            self._reset_connection()
            return
        except (OSError, http.client.HTTPException):
            early = self._early_answer(conn)
            if early is None:
                report(None, 0)
                self._reset_connection()
                return
            response = early
            self.close_connection = True  # the rest of the request body is not read
        if fault is not None and (fault.reset_after == 0 or limit is not None):
            # The whole request (shorter than a reset_before limit) reached the service,
            # which did the work; its answer is lost.
            report(None, 0, response.headers)
            self._reset_connection()
            return
        self.send_response_only(response.status, response.reason)
        length = response.getheader("Content-Length")
        has_body = self.command != "HEAD" and response.status not in (204, 304)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP:
                self.send_header(key, value)
        chunked = length is None and has_body
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if not has_body or length == "0":
            response.read()  # nothing to read, but the upstream connection must see it finished
            report(response.status, 0, response.headers)
            self.end_headers()
            if fault is not None and (fault.cut is not None or fault.reset_after is not None):
                self._close_cleanly() if fault.cut is not None else self._reset_connection()
            return
        self.end_headers()
        self._relay_body(response, chunked, fault, report)

    def _relay_body(self, response: http.client.HTTPResponse, chunked: bool, fault: Fault | None,
                    report: Callable[..., None]) -> None:
        limit = None
        if fault is not None:
            limit = fault.cut if fault.cut is not None else fault.reset_after
        sent = 0
        data = response.read(CHUNK)
        while data:
            following = response.read(CHUNK)  # one chunk ahead: the last one is known as such
            if limit is not None and sent + len(data) >= limit:
                data = data[: limit - sent]
                report(response.status, sent + len(data), response.headers)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked and data else data)
                assert fault is not None
                self._close_cleanly() if fault.cut is not None else self._reset_connection()
                return
            if not following and not chunked:
                report(response.status, sent + len(data), response.headers)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
            sent += len(data)
            data = following
        report(response.status, sent, response.headers)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        if limit is not None:  # the body was shorter than the limit: cut or reset at its end
            assert fault is not None
            self._close_cleanly() if fault.cut is not None else self._reset_connection()

    def _early_answer(self, conn: http.client.HTTPConnection) -> http.client.HTTPResponse | None:
        """The answer a service sent before the request body was through (then it closed)."""
        if conn.sock is None:
            return None
        try:
            response = http.client.HTTPResponse(conn.sock, method=self.command)
            response.begin()
        except (OSError, http.client.HTTPException):
            return None
        return response

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = _forward


# -- the stand-alone counting proxy ------------------------------------------------------------

@dataclass(eq=False)
class _MethodFault(Fault):
    """A fault matched by HTTP method and a substring of the path (CountingProxy.inject)."""

    method: str | None = None
    path_contains: str | None = None

    def hits(self, method: str, path: str) -> bool:
        return ((self.method is None or self.method == method)
                and (self.path_contains is None or self.path_contains in path) and self._take())


class CountingProxy(HTTPFront):
    """A proxy on 127.0.0.1 forwarding to ``upstream`` (host, port), with its own records.

    Every request is recorded as ``(method, path)``; ``inject()`` asks for "the
    next N calls of method X (whose path contains Y) return a status / reset the
    connection / stall T seconds / cut the body after K bytes", and ``fired``
    reports which faults fired as ``(method, path, kind)``. For new tests prefer
    the ``storage_requests`` and ``storage_faults`` fixtures (docs/testing.md).
    """

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        super().__init__(None)
        self.upstream = (upstream_host, upstream_port)
        self._requests: list[tuple[str, str]] = []
        self._faults: list[_MethodFault] = []
        self._fired: list[tuple[str, str, str]] = []

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._requests)

    def count(self) -> int:
        with self._lock:
            return len(self._requests)

    def counting(self) -> "_Counter":
        """``with proxy.counting() as c: ...`` then ``c.count`` / ``c.requests``."""
        return _Counter(self)

    def inject(self, *, method: str | None = None, path_contains: str | None = None, times: int = 1,
               status: int | None = None, reset: bool = False, stall: float = 0.0,
               cut_after: int | None = None) -> Fault:
        """Disturb the next ``times`` requests matching ``method`` and ``path_contains``."""
        fault = _MethodFault(status=status, reset_before=0 if reset else None, stall=stall, cut=cut_after,
                             times=times, method=method, path_contains=path_contains)
        with self._lock:
            self._faults.append(fault)
        return fault

    @property
    def fired(self) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self._fired)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._fired.clear()

    def take_fault(self, request: HTTPRequest, operation: Operation) -> Fault | None:
        with self._lock:
            self._requests.append((request.method, request.target))
            for fault in self._faults:
                if fault.hits(request.method, request.target):
                    kind = {"reset_before": "reset"}.get(fault.kind, fault.kind)
                    self._fired.append((request.method, request.target, kind))
                    return fault
        return None


class _Counter:
    def __init__(self, proxy: CountingProxy) -> None:
        self._proxy = proxy
        self._start = 0
        self.requests: list[tuple[str, str]] = []

    def __enter__(self) -> "_Counter":
        self._start = self._proxy.count()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.requests = self._proxy.requests[self._start:]

    @property
    def count(self) -> int:
        return len(self.requests)
