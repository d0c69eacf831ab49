"""The HTTP-aware proxy in front of each HTTP emulator: observes calls, injects faults.

:class:`HTTPFront` listens on 127.0.0.1 (plain HTTP, or TLS with the
emulator's certificate) and forwards to the service. For every request it
names the operation (emulators.classify), lets a verifier refuse it (presigned
URL checks, emulators.presign), asks the hub whether a fault fires, forwards or
disturbs it, and reports the call. Bodies stream both ways in 64 KiB chunks,
so memory does not grow with object size. A subclass may also keep a request's
body and answer it itself (``keep``), and send kept bytes ahead of a later
request's body (``release``): the GCS front does, emulators.gcs_spool.

:class:`CountingProxy` is the older, stand-alone form: a proxy with its own
``(method, path)`` record and ``inject(method=..., path_contains=...)`` faults,
which this repository's backend tests put in front of an emulator.
"""

from __future__ import annotations

import http
import socket
import socketserver
import ssl
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

from .classify import CLASSIFIERS, Classifier, HTTPRequest
from .faults import Fault
from .http_wire import (
    CHUNK,
    LAST_CHUNK,
    Body,
    Headers,
    ProtocolError,
    Upstream,
    chunk,
    encode_head,
    read_head,
)
from .observe import HUB, Hub
from .ops import Call, Operation
from .service_errors import error_response


@dataclass(frozen=True)
class Denial:
    """A request the front refuses itself, answering as the service would."""

    status: int
    code: str
    message: str
    details: str | None = None


#: ``verify(request, body) -> Denial | None``: checks a request before it is forwarded.
Verifier = Callable[[HTTPRequest, Body], "Denial | None"]


class BodyCheck(Protocol):
    """The service's check of one request's body (a digest, a precondition), made as it
    streams: ``update`` sees every byte sent upstream (faults applied), ``verdict`` runs
    before the last piece goes, so a refused request never completes at the service."""

    def update(self, data: bytes) -> None: ...

    def verdict(self) -> Denial | None: ...


class Integrity(Protocol):
    """What a front checks of request bodies as the service would (emulators.integrity)."""

    def check(self, request: HTTPRequest) -> BodyCheck | None:
        """The check for this request's body, if the service would make one."""

    def answered(self, request: HTTPRequest, status: int | None, headers: Any) -> None:
        """Called once per request with what the client got (``None``: no answer)."""


class Kept(Protocol):
    """A request body a front keeps instead of forwarding it (``HTTPFront.keep``)."""

    def write(self, offset: int, data: bytes) -> None: ...

    def commit(self, length: int) -> tuple[int, list[tuple[str, str]]]:
        """The whole body arrived: the status and header fields to answer with."""
        ...


class Released(Protocol):
    """Kept bytes a front sends ahead of a request's own body (``HTTPFront.release``)."""

    def fields(self, fields: list[tuple[str, str]]) -> list[tuple[str, str]]: ...

    def pieces(self) -> Iterator[bytes]: ...


class _Abort(Exception):
    """Stop sending the request upstream (a reset_before fault)."""


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
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
                 upstream_host: Callable[[HTTPRequest], str | None] | None = None, hub: Hub = HUB,
                 integrity: Integrity | None = None) -> None:
        self.service = service
        self.integrity = integrity
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
        self.in_flight = 0
        self.peak = 0  # most requests in flight at once since reset_peak()

    def _count_in_flight(self, change: int) -> None:
        with self._lock:
            self.in_flight += change
            self.peak = max(self.peak, self.in_flight)

    def reset_peak(self) -> None:
        """Start a new measurement of the most requests in flight at once (``peak``)."""
        with self._lock:
            self.peak = self.in_flight

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

    def verify(self, request: HTTPRequest, body: Body) -> Denial | None:
        """A refusal of ``request`` before it is forwarded (the ``verifier``'s), or None."""
        return self.verifier(request, body) if self.verifier is not None else None

    def keep(self, request: HTTPRequest) -> Kept | None:
        """Take ``request``'s body and answer it here rather than forward it (None: forward)."""
        return None

    def release(self, request: HTTPRequest) -> Released | None:
        """Kept bytes to send ahead of ``request``'s body, and its fields to match (None: none)."""
        return None

    def take_fault(self, request: HTTPRequest, operation: Operation) -> Fault | None:
        if self.service is None:
            return None
        return self.hub.take_fault(self.service, operation.name, operation.key)

    def record(self, request: HTTPRequest, operation: Operation, status: int | None, bytes_in: int,
               bytes_out: int, fault: Fault | None, headers: Any) -> None:
        if self.integrity is not None:
            self.integrity.answered(request, status, headers)
        if self.classifier is not None and status is not None:
            self.classifier.learn(request, operation, status, headers or {})
        if self.service is not None and self.hub.recording:
            self.hub.record(Call(self.service, operation.name, operation.key, status, bytes_in, bytes_out,
                                 operation.bucket, f"{request.method} {request.target}",
                                 fault.kind if fault else None))

    def answered(self, request: HTTPRequest, status: int, headers: Headers) -> None:
        """The service answered ``request`` (whether or not its answer reaches the client)."""

    def error(self, status: int, request: HTTPRequest, *, code: str | None = None,
              message: str | None = None, details: str | None = None) -> tuple[list[tuple[str, str]], bytes]:
        if self.service is None:
            return [("Content-Type", "text/plain")], b"injected fault"
        return error_response(self.service, status, code=code, message=message, resource=request.target,
                              details=details)


class _Handler(socketserver.StreamRequestHandler):
    """One client connection: requests read one after another (keep-alive), each forwarded
    on this connection's own upstream connection."""

    front: HTTPFront
    disable_nagle_algorithm = True
    rbufsize = CHUNK
    wbufsize = 0

    def setup(self) -> None:
        super().setup()
        assert self.front.upstream is not None, "the front has no upstream yet"
        self.upstream = Upstream(self.front.upstream, self.front.upstream_tls)
        self.close_connection = False

    def finish(self) -> None:
        """Close the upstream connection with the client's."""
        self.upstream.close()
        try:
            super().finish()
        except OSError:
            pass

    def handle(self) -> None:
        while not self.close_connection:
            try:
                head = read_head(self.rfile)
            except (ProtocolError, OSError):
                return
            if head is None:
                return
            start_line, self.headers = head
            try:
                self.command, self.path, version = start_line.split(" ", 2)
            except ValueError:
                self.wfile.write(encode_head("HTTP/1.1 400 Bad Request",
                                             [("Content-Length", "0"), ("Connection", "close")]))
                return
            connection = (self.headers.get("Connection") or "").lower()
            self.close_connection = "close" in connection or (
                version != "HTTP/1.1" and "keep-alive" not in connection)
            if version == "HTTP/1.1" and "100-continue" in (self.headers.get("Expect") or "").lower():
                self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.front._count_in_flight(+1)
            try:
                self._forward()
            finally:
                self.front._count_in_flight(-1)

    # -- ends of a connection ------------------------------------------------------------------
    def _reset_connection(self) -> None:
        """Drop the client's connection with a TCP reset."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close_connection = True
        try:
            self.connection.close()
        except OSError:
            pass
        self.upstream.close()

    def _close_cleanly(self) -> None:
        try:
            self.connection.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.close_connection = True
        self.upstream.close()

    # -- one request ------------------------------------------------------------------------------
    def _forward(self) -> None:
        front = self.front
        body = Body.of_request(self.rfile, self.headers)
        request = HTTPRequest(self.command, self.path, self.headers, peek=body.peek)
        # Naming the operation is for records and faults: skipped while no scope wants them.
        observing = front.service is not None and (front.hub.recording or front.hub.faulting)
        operation = front.classify(request) if observing else _UNOBSERVED
        denial = front.verify(request, body)
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
                self._deny(request, denial, report)
            elif fault is not None and fault.status is not None:
                body.drain()
                self._answer(fault.status, front.error(
                    fault.status, request, code=fault.code, message=fault.message), report)
            elif fault is not None and fault.reset_before == 0:
                report(None, 0)
                self._reset_connection()
            else:
                self._relay(request, body, fault, report)
        finally:
            report(None, 0)  # an exception: the client got no (complete) answer

    def _answer(self, status: int, error: tuple[list[tuple[str, str]], bytes],
                report: Callable[..., None]) -> None:
        fields, payload = error
        if self.command == "HEAD":  # a HEAD answer has no body, whatever its length says
            payload_sent = b""
        else:
            payload_sent = payload
        report(status, len(payload_sent))
        head = encode_head(f"HTTP/1.1 {status} {_reason(status)}",
                           [*fields, ("Content-Length", str(len(payload)))])
        self.wfile.write(head + payload_sent)

    def _deny(self, request: HTTPRequest, denial: Denial, report: Callable[..., None]) -> None:
        """Answer with ``denial``, in the service's own error format."""
        self._answer(denial.status, self.front.error(
            denial.status, request, code=denial.code, message=denial.message, details=denial.details), report)

    def _request_body(self, body: Body, limit: int | None, corrupt: int | None,
                      check: BodyCheck | None) -> Iterator[bytes]:
        """The pieces to send upstream: cut at a reset_before ``limit``, a byte flipped at
        ``corrupt``; with a ``check``, the last piece is held back until its verdict."""
        sent = 0
        held: bytes | None = None
        for data in body:
            data = _flipped(data, corrupt, sent)
            if limit is not None and sent + len(data) >= limit:
                if held is not None:
                    yield held
                yield data[: limit - sent]
                raise _Abort
            sent += len(data)
            if check is None:
                yield data
                continue
            check.update(data)
            if held is not None:
                yield held
            held = data
        if check is not None:
            denial = check.verdict()
            if denial is not None:
                raise _Refused(denial)
            if held is not None:
                yield held

    def _send_request(self, request: HTTPRequest, body: Body, limit: int | None, corrupt: int | None = None,
                      check: BodyCheck | None = None, released: Released | None = None) -> None:
        fields = self.headers.without_hop_by_hop()
        if released is not None:
            fields = released.fields(fields)
        host = self.front.upstream_host(request) if self.front.upstream_host is not None else None
        if host:
            fields = [(name, host if name.lower() == "host" else value) for name, value in fields]
        if body.chunked:
            fields = [(n, v) for n, v in fields if n.lower() != "content-length"] + [
                ("Transfer-Encoding", "chunked")]
        head = encode_head(f"{self.command} {self.path} HTTP/1.1", fields)
        if body.empty and check is not None:  # nothing to hold back: judge before the head goes
            denial = check.verdict()
            if denial is not None:
                raise _Refused(denial)
        upstream = self.upstream.ready()
        try:
            upstream.send(head)
        except OSError:
            if not upstream.reused:
                raise
            upstream.close()  # the service closed the idle connection meanwhile: once more, anew
            self.upstream.ready().send(head)
        for data in released.pieces() if released is not None else ():
            self.upstream.send(chunk(data) if body.chunked else data)
        if body.empty:
            if limit is not None:
                raise _Limited
            return
        for data in self._request_body(body, limit, corrupt, check):
            if data:
                self.upstream.send(chunk(data) if body.chunked else data)
        if body.chunked:
            self.upstream.send(LAST_CHUNK)
        if limit is not None:
            raise _Limited

    def _read_answer(self) -> tuple[int, str, Headers]:
        assert self.upstream.rfile is not None
        while True:
            head = read_head(self.upstream.rfile)
            if head is None:
                raise ConnectionError("the service closed the connection without answering")
            status_line, fields = head
            version, status_text, *reason = status_line.split(" ", 2)
            status = int(status_text)
            if status >= 200 or status == 101:
                connection = (fields.get("Connection") or "").lower()
                self.upstream_close = "close" in connection or version == "HTTP/1.0"
                return status, reason[0] if reason else "", fields
            # an interim answer (100 Continue): the real one follows

    def _relay(self, request: HTTPRequest, body: Body, fault: Fault | None,
               report: Callable[..., None]) -> None:
        limit = fault.reset_before if fault is not None else None
        # A corrupt fault flips a byte of the upload; of the answer for calls that send none.
        corrupt = fault.corrupt if fault is not None and not body.empty else None
        self._sent_body = not body.empty
        check = self.front.integrity.check(request) if self.front.integrity is not None else None
        kept = self.front.keep(request)
        if kept is not None:
            self._keep(request, body, fault, report, kept, limit, corrupt, check)
            return
        released = self.front.release(request)
        lost = False  # the whole request reached the service, whose answer is lost
        try:
            try:
                self._send_request(request, body, limit, corrupt, check, released)
            except _Limited:
                lost = True
            status, reason, fields = self._read_answer()
        except _Abort:
            report(None, 0)
            self._reset_connection()
            return
        except _Refused as refused:  # the service never got the whole request: it completes nothing
            self.upstream.close()
            self._deny(request, refused.denial, report)
            return
        except (OSError, ProtocolError, ValueError):
            try:  # the service may have answered before the body was through, then closed
                status, reason, fields = self._read_answer()
            except (OSError, ProtocolError, ValueError):
                report(None, 0)
                self._reset_connection()
                return
            self.close_connection = True  # the rest of the request body is not read
        self.front.answered(request, status, fields)
        if lost or (fault is not None and fault.reset_after == 0):
            report(None, 0, fields)  # the service did the work; its answer is lost
            self._reset_connection()
            return
        assert self.upstream.rfile is not None
        answer = Body.of_response(self.upstream.rfile, fields, self.command, status)
        out = [(n, v) for n, v in fields.without_hop_by_hop()]
        rechunk = answer.mode in ("chunked", "eof")
        if rechunk:
            out.append(("Transfer-Encoding", "chunked"))
        head = encode_head(f"HTTP/1.1 {status} {reason}", out)
        if answer.empty:
            report(status, 0, fields)
            self.wfile.write(head)
            if fault is not None and (fault.cut is not None or fault.reset_after is not None):
                self._close_cleanly() if fault.cut is not None else self._reset_connection()
        else:
            self._relay_body(head, answer, rechunk, fault, report, status, fields)
        if self.upstream_close or answer.mode == "eof":
            self.upstream.close()

    def _keep(self, request: HTTPRequest, body: Body, fault: Fault | None, report: Callable[..., None],
              kept: Kept, limit: int | None, corrupt: int | None, check: BodyCheck | None) -> None:
        """Take the body into ``kept`` and answer as it says; faults act as on a forwarded request."""
        length = 0
        try:
            for data in self._request_body(body, limit, corrupt, check):
                kept.write(length, data)
                length += len(data)
        except _Refused as refused:
            self._deny(request, refused.denial, report)
            return
        except (_Abort, OSError, ProtocolError, ValueError):  # cut short: nothing of it is kept
            report(None, 0)
            self._reset_connection()
            return
        status, fields = kept.commit(length)
        answer = Headers(fields)
        self.front.answered(request, status, answer)
        if limit is not None or (fault is not None and fault.reset_after == 0):
            report(None, 0, answer)  # kept, but the answer is lost
            self._reset_connection()
            return
        report(status, 0, answer)
        head = encode_head(f"HTTP/1.1 {status} {_reason(status)}", [*fields, ("Content-Length", "0")])
        self.wfile.write(head)
        if fault is not None and (fault.cut is not None or fault.reset_after is not None):
            self._close_cleanly() if fault.cut is not None else self._reset_connection()

    def _relay_body(self, head: bytes, answer: Body, rechunk: bool, fault: Fault | None,
                    report: Callable[..., None], status: int, fields: Headers) -> None:
        limit = corrupt = None
        if fault is not None:
            limit = fault.cut if fault.cut is not None else fault.reset_after
            if not self._sent_body:
                corrupt = fault.corrupt
        sent = 0
        pending = head  # the head goes out with the first piece of the body
        data = answer.read()
        while data:
            data = _flipped(data, corrupt, sent)
            following = b"" if answer.exhausted else answer.read()  # the last piece is known as such
            if limit is not None and sent + len(data) >= limit:
                data = data[: limit - sent]
                report(status, sent + len(data), fields)
                self.wfile.write(pending + (chunk(data) if rechunk and data else data))
                assert fault is not None
                self._close_cleanly() if fault.cut is not None else self._reset_connection()
                return
            if not following and not rechunk:
                report(status, sent + len(data), fields)
            self.wfile.write(pending + (chunk(data) if rechunk else data))
            pending = b""
            sent += len(data)
            data = following
        report(status, sent, fields)
        if rechunk:
            self.wfile.write(pending + LAST_CHUNK)
        elif pending:
            self.wfile.write(pending)
        if limit is not None:  # the body was shorter than the limit: cut or reset at its end
            assert fault is not None
            self._close_cleanly() if fault.cut is not None else self._reset_connection()


_UNOBSERVED = Operation("other")


class _Limited(Exception):
    """The request went out whole, but a reset_before limit was not reached: lose the answer."""


class _Refused(Exception):
    """A body check refused the request before its last piece went upstream."""

    def __init__(self, denial: Denial) -> None:
        super().__init__(denial.message)
        self.denial = denial


def _flipped(data: bytes, at: int | None, offset: int) -> bytes:
    """``data`` (bytes ``offset``.. of a body) with the byte at body offset ``at`` inverted."""
    if at is None or not offset <= at < offset + len(data):
        return data
    i = at - offset
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


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
        """``with proxy.counting() as c: ...`` then ``c.count`` / ``c.requests`` / ``c.peak``
        (the most requests in flight at once during the block)."""
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
        self.peak = 0

    def __enter__(self) -> "_Counter":
        self._start = self._proxy.count()
        self._proxy.reset_peak()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.requests = self._proxy.requests[self._start:]
        self.peak = self._proxy.peak

    @property
    def count(self) -> int:
        return len(self.requests)
