"""HTTP(S) front of the fake: Dropbox's request/response conventions around the routes.

* ``POST /2/<route>``: RPC routes take JSON (``Content-Type: application/json``)
  and answer JSON; upload routes take ``Dropbox-API-Arg`` and an
  ``application/octet-stream`` body; download routes answer the bytes with the
  metadata in ``Dropbox-API-Result``. Route errors are 409 with
  ``error_summary``/``error``; bad tokens 401; malformed calls 400 text.
* ``POST /oauth2/token``: ``grant_type=refresh_token`` issues short-lived tokens.
* ``GET /tmplink/<token>/<name>``: what ``files/get_temporary_link`` hands out.

One server listens on plain HTTP, a second on HTTPS (same store), so code using
the unmodified SDK reaches the fake through ``DROPBOX_API_HOST`` & co.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import re
import secrets
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO
from urllib.parse import parse_qs, quote, unquote, urlsplit

from .routes import ROUTES, Body, Download
from .store import OAuthFailure, Store
from .wire import ApiFailure, BadRequest

logger = logging.getLogger("emulators.dropbox")

#: Bodies left unread by an early error are drained up to this size, else the connection closes.
DRAIN_LIMIT = 16 * 1024 * 1024
COPY_CHUNK = 256 * 1024
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, store: Store, ssl_context: ssl.SSLContext | None, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.store = store
        self.ssl_context = ssl_context
        self.scheme = "https" if ssl_context else "http"
        super().__init__((host, port), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            return super().finish_request(request, client_address)
        request.settimeout(30)  # the handshake runs here, in the connection's own thread
        conn = self.ssl_context.wrap_socket(request, server_side=True)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DropboxFake/1.0"
    timeout = 120
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s " + format, self.client_address[0], *args)

    # -- plumbing -----------------------------------------------------------------------
    def _body(self) -> Body:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return Body(_ChunkedReader(self.rfile).read, None)
        remaining = [int(self.headers.get("Content-Length") or 0)]
        length = remaining[0]

        def read(n: int) -> bytes:
            if remaining[0] <= 0:
                return b""
            data = self.rfile.read(min(n, remaining[0]))
            if not data:
                raise ConnectionError("client closed the connection mid-body")
            remaining[0] -= len(data)
            return data

        read.remaining = remaining  # type: ignore[attr-defined]
        return Body(read, length)

    def _drain(self, body: Body) -> None:
        remaining = getattr(body.read, "remaining", None)
        if remaining is None or remaining[0] > DRAIN_LIMIT:
            if remaining is None or remaining[0] > 0:
                self.close_connection = True
            return
        while body.read(COPY_CHUNK):
            pass

    def _send(self, status: int, payload: bytes, content_type: str,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Dropbox-Request-Id", secrets.token_hex(16))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode(), "application/json")

    def _text(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    # -- dispatch -----------------------------------------------------------------------
    def do_POST(self) -> None:
        body = self._body()
        path = urlsplit(self.path).path
        try:
            if path == "/oauth2/token":
                self._oauth(body)
            elif path == "/_fake/reset":  # what DropboxEmulator.reset() does, for a fake in a container
                self.server.store.reset()
                self._text(200, "ok")
            elif path.startswith("/2/") and path[3:] in ROUTES:
                self._route(path[3:], body)
            else:
                self._text(404, f"Unknown API function: {path!r}")
        except (TimeoutError, ConnectionError) as exc:
            logger.debug("client went away: %s", exc)
            self.close_connection = True
            return
        self._drain(body)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/_fake/health":
            self._text(200, "ok")
        elif path.startswith("/tmplink/"):
            self._link(path[len("/tmplink/"):].split("/", 1)[0])
        elif path.startswith("/2/") and ROUTES.get(path[3:], ("",))[0] == "download":
            self._route(path[3:], Body(lambda n: b"", 0))  # browsers: ?arg=...&authorization=...
        else:
            self._text(404, "Not found")

    do_HEAD = do_GET

    def _route(self, name: str, body: Body) -> None:
        style, func = ROUTES[name]
        query = parse_qs(urlsplit(self.path).query)
        auth = self.headers.get("Authorization") or (query.get("authorization") or [None])[0]
        try:
            if not auth or not auth.startswith("Bearer "):
                raise BadRequest('Must provide HTTP header "Authorization" or URL parameter "authorization".')
            state = self.server.store.check_token(auth[len("Bearer "):])
            if state != "ok":
                tag = f"{state}_access_token"
                return self._json(401, {"error_summary": f"{tag}/..", "error": {".tag": tag}})
            arg = self._arg(style, body, query)
            result = func(self.server.store, arg, body)
        except BadRequest as exc:
            return self._text(400, f'Error in call to API function "{name}": {exc}')
        except ApiFailure as exc:
            return self._json(exc.status, exc.body())
        except (TimeoutError, ConnectionError):
            raise
        except Exception:
            logger.exception("the Dropbox fake failed on %s", name)
            return self._text(500, "Internal server error")
        if name == "files/get_temporary_link":
            result["link"] = self._link_url(result["link"], result["metadata"]["name"])
        if isinstance(result, Download):
            return self._download(result)
        self._json(200, result)

    def _arg(self, style: str, body: Body, query: dict[str, list[str]]) -> dict[str, Any]:
        content_type = self.headers.get("Content-Type", "")
        if style == "rpc":
            if content_type.split(";")[0].strip() != "application/json":
                raise BadRequest(f'Bad HTTP "Content-Type" header: "{content_type}".  Expecting one of '
                                 '"application/json", "application/json; charset=utf-8", '
                                 '"text/plain; charset=dropbox-cors-hack".')
            raw = b"".join(iter(lambda: body.read(COPY_CHUNK), b"")).decode("utf-8", "replace")
        else:
            if style == "upload" and content_type not in ("application/octet-stream",
                                                          "text/plain; charset=dropbox-cors-hack"):
                raise BadRequest(f'Bad HTTP "Content-Type" header: "{content_type}".  Expecting one of '
                                 '"application/octet-stream", "text/plain; charset=dropbox-cors-hack".')
            raw = self.headers.get("Dropbox-API-Arg") or (query.get("arg") or [None])[0]
            if raw is None:
                raise BadRequest('Must provide HTTP header "Dropbox-API-Arg" or URL parameter "arg".')
            if any(ord(ch) > 127 for ch in raw):
                raise BadRequest('HTTP header "Dropbox-API-Arg": could not decode input as JSON: '
                                 "non-ASCII characters must be escaped as \\uXXXX")
        try:
            arg = json.loads(raw)
        except ValueError:
            raise BadRequest(f"request body: could not decode input as JSON: {raw[:80]!r}") from None
        if not isinstance(arg, dict):
            raise BadRequest(f"request body: expected an object, got {raw[:80]!r}")
        return arg

    # -- downloads and links ------------------------------------------------------------
    def _download(self, result: Download) -> None:
        header = json.dumps(result.entry.metadata(tagged=False))  # ASCII: \u-escaped, as Dropbox does
        self._serve_file(result.file, result.entry.size, "application/octet-stream",
                         {"Dropbox-API-Result": header})

    def _link_url(self, token: str, name: str) -> str:
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
        return f"{self.server.scheme}://{host}/tmplink/{token}/{quote(name)}"

    def _link(self, token: str) -> None:
        found = self.server.store.open_link(unquote(token))
        if isinstance(found, str):
            return self._text(410 if found == "gone" else 404, f"This link is {found}.")
        entry, handle = found
        content_type = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
        self._serve_file(handle, entry.size, content_type, {"Accept-Ranges": "bytes"})

    def _serve_file(self, handle: BinaryIO, size: int, content_type: str, headers: dict[str, str]) -> None:
        with handle:
            start, end, status = 0, size - 1, 200
            match = _RANGE.match(self.headers.get("Range", "").strip())
            if match and (match.group(1) or match.group(2)):
                first, last = match.group(1), match.group(2)
                if first:
                    start, end = int(first), min(int(last), size - 1) if last else size - 1
                else:
                    start, end = max(size - int(last), 0), size - 1
                if start >= size or start > end:
                    return self._send(416, b"", "text/plain", {"Content-Range": f"bytes */{size}"})
                status = 206
                headers = {**headers, "Content-Range": f"bytes {start}-{end}/{size}"}
            length = end - start + 1 if size else 0
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(length))
            self.send_header("X-Dropbox-Request-Id", secrets.token_hex(16))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command == "HEAD":
                return
            handle.seek(start)
            while length > 0:
                data = handle.read(min(COPY_CHUNK, length))
                if not data:
                    break
                self.wfile.write(data)
                length -= len(data)

    # -- oauth ------------------------------------------------------------------------------
    def _oauth(self, body: Body) -> None:
        raw = b"".join(iter(lambda: body.read(COPY_CHUNK), b"")).decode()
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        basic = self.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(basic[6:]).decode().partition(":")
        try:
            if form.get("grant_type") != "refresh_token":
                grant = form.get("grant_type")
                raise OAuthFailure("unsupported_grant_type", f"unsupported grant_type {grant!r}")
            if not form.get("refresh_token"):
                raise OAuthFailure("invalid_request", "No refresh_token given")
            result = self.server.store.refresh(form["refresh_token"], client_id or "", client_secret)
        except OAuthFailure as exc:
            return self._json(400, {"error": exc.error, "error_description": exc.description})
        self._json(200, result)


class _ChunkedReader:
    """Decodes a ``Transfer-Encoding: chunked`` request body."""

    def __init__(self, rfile: BinaryIO) -> None:
        self._rfile = rfile
        self._left = 0
        self._done = False

    def read(self, n: int) -> bytes:
        if self._done:
            return b""
        if self._left == 0:
            size = int(self._rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self._rfile.readline().strip():
                    pass  # trailers
                self._done = True
                return b""
            self._left = size
        data = self._rfile.read(min(n, self._left))
        if not data:
            raise ConnectionError("client closed the connection mid-body")
        self._left -= len(data)
        if self._left == 0:
            self._rfile.readline()  # CRLF after the chunk
        return data


class FakeDropboxServer:
    """The fake on two loopback ports: plain HTTP and HTTPS (certificate given).

    ``host``, ``port`` and ``https_port`` choose where they listen (a container binds given ports).
    """

    def __init__(self, store: Store, cert: str | None = None, key: str | None = None, *,
                 host: str = "127.0.0.1", port: int = 0, https_port: int = 0) -> None:
        self.store = store
        context = None
        if cert and key:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
        self._servers = [_Server(store, None, host, port)]
        if context:
            self._servers.append(_Server(store, context, host, https_port))
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.1},
                             name=f"dropbox-fake-{s.scheme}", daemon=True)
            for s in self._servers
        ]
        for thread in self._threads:
            thread.start()

    @property
    def http_port(self) -> int:
        return self._servers[0].server_address[1]

    @property
    def https_port(self) -> int | None:
        return self._servers[1].server_address[1] if len(self._servers) > 1 else None

    def close(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)


__all__ = ["FakeDropboxServer"]
