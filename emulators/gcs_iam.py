"""A fake of Google's OAuth token endpoint and IAM ``signBlob`` API, for ``GS_IAM_SIGN_BLOB``.

google-cloud-storage signs a URL without a key file by POSTing the string to sign to
``https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/<email>:signBlob``
with the caller's OAuth access token; that host is fixed in the SDK. :class:`IAMFake`
serves, on one loopback port:

* ``POST /token``: the OAuth token endpoint of a service-account key (point the key's
  ``token_uri`` at :attr:`IAMFake.token_uri`); each grant is a new access token;
* ``CONNECT iamcredentials.googleapis.com:443``: an HTTPS proxy that terminates TLS
  itself (certificate from a throwaway CA, :attr:`IAMFake.env` makes requests trust it
  and use the proxy), then serves ``signBlob``: the blob signed RSA-SHA256 with the
  service account's key, so the signed URL is one the GCS emulator accepts.

A token stops being accepted when :meth:`IAMFake.expire_tokens` says so (what an hour
does to a real one): ``signBlob`` then answers 401 as Google does. :attr:`IAMFake.grants`
and :attr:`IAMFake.signatures` record what clients did.
"""

from __future__ import annotations

import base64
import http.server
import json
import socketserver
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .dropbox_fake.tls import make_certificates

IAM_HOST = "iamcredentials.googleapis.com"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


class IAMFake:
    """The token endpoint and signBlob API for one service-account key (see the module docstring)."""

    def __init__(self, service_account: dict[str, str]) -> None:
        from cryptography.hazmat.primitives import serialization

        self.email = service_account["client_email"]
        self._key = serialization.load_pem_private_key(service_account["private_key"].encode(), None)
        self._lock = threading.Lock()
        self._live: set[str] = set()
        self.grants = 0  #: access tokens issued
        self.signatures: list[tuple[str, int]] = []  #: (token used, HTTP status) per signBlob call
        self._dir = tempfile.TemporaryDirectory(prefix="storages-iam-")
        self._certs = make_certificates(Path(self._dir.name), hosts=(IAM_HOST,))
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(self._certs.cert, self._certs.key)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="iam-fake")

    # -- lifecycle -------------------------------------------------------------
    def __enter__(self) -> IAMFake:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
        self._dir.cleanup()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def token_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    @property
    def env(self) -> dict[str, str]:
        """Environment for requests (google-auth's transport): HTTPS through this proxy,
        trusting its CA; loopback (the emulators, the token endpoint) direct."""
        return {"HTTPS_PROXY": f"http://127.0.0.1:{self.port}", "https_proxy": f"http://127.0.0.1:{self.port}",
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
                "REQUESTS_CA_BUNDLE": str(self._certs.bundle)}

    def expire_tokens(self) -> None:
        """Every token issued so far is refused from now on, as an expired one is."""
        with self._lock:
            self._live.clear()

    # -- the two APIs ----------------------------------------------------------
    def grant(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        from google.auth import jwt

        if form.get("grant_type") != [JWT_BEARER] or "assertion" not in form:
            return 400, {"error": "unsupported_grant_type"}
        try:  # signed by the service account's key (the audience is Google's token URI: not checked)
            claims = jwt.decode(form["assertion"][0], certs=self._public_pem(), verify=True)
        except ValueError:
            claims = {}
        if claims.get("iss") != self.email:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        with self._lock:
            self.grants += 1
            token = f"ya29.fake-{self.grants}"
            self._live.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3599}

    def sign_blob(self, path: str, authorization: str, body: bytes) -> tuple[int, dict[str, Any]]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        token = authorization.removeprefix("Bearer ")
        with self._lock:
            live = token in self._live
        if path != f"/v1/projects/-/serviceAccounts/{self.email}:signBlob":
            status, answer = 404, {"error": {"code": 404, "status": "NOT_FOUND", "message": path}}
        elif not live:
            status, answer = 401, {"error": {"code": 401, "status": "UNAUTHENTICATED", "message":
                                             "Request had invalid authentication credentials."}}
        else:
            payload = base64.b64decode(json.loads(body)["payload"])
            signature = self._key.sign(payload, padding.PKCS1v15(), hashes.SHA256())
            status, answer = 200, {"keyId": "emulator", "signedBlob": base64.b64encode(signature).decode()}
        with self._lock:
            self.signatures.append((token, status))
        return status, answer

    def _public_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: IAMFake


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Quiet: tests read the fake's records instead."""

    def do_CONNECT(self) -> None:  # noqa: N802 - http.server's naming
        if self.path != f"{IAM_HOST}:443":
            self.send_error(403, "this proxy reaches only the IAM fake")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        # From here the tunnel is TLS to "the IAM host": this handler serves it itself.
        self.connection = self.server.fake._tls.wrap_socket(self.connection, server_side=True)
        self.rfile = self.connection.makefile("rb")
        self.wfile = self.connection.makefile("wb", buffering=0)
        self.close_connection = False

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        path = self.path.split("?", 1)[0]
        if isinstance(self.connection, ssl.SSLSocket):
            status, answer = fake.sign_blob(path, self.headers.get("Authorization", ""), body)
        elif path == "/token":
            status, answer = fake.grant(parse_qs(body.decode()))
        else:
            status, answer = 404, {"error": "not found"}
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
