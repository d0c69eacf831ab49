"""What GCS does that fake-gcs-server (1.x) does not, done by the GCS emulator's proxy.

**Resumable-upload status queries.** A client that lost the answer to a chunk asks the
session what it holds with an empty ``PUT`` carrying ``Content-Range: bytes */*``. GCS
answers ``308`` with ``Range: bytes=0-N`` (no ``Range`` when it holds nothing), or ``200`` when the session
already made its object. fake-gcs-server (1.x) takes that query for the last chunk and
finalises the object with what it has, so a client that asks, as Google's guidance says,
gets a truncated object. :class:`GCSFront` (the GCS emulator's proxy) remembers what each
session holds from the service's own answers (each chunk's 308 ``Range``, the final 200)
and answers the query itself; a session it never saw is passed to the service.

**Chunks hashed once.** fake-gcs-server hashes everything a resumable session holds on
every chunk; the front keeps a session's chunks and sends them as one request with the last
(emulators.gcs_spool), answering each as GCS does.

**Customer-supplied encryption keys (CSEK).** fake-gcs-server ignores the
``x-goog-encryption-*`` headers and serves such objects to anyone. The front remembers
which objects were stored with which key (its SHA-256, never the key) and refuses, as
GCS does, a media download of one without its key (400
``ResourceIsEncryptedWithCustomerEncryptionKey``), with another key (400
``customerEncryptionKeyIsIncorrect``), or a key for an object stored without one (400
``ResourceNotEncryptedWithCustomerEncryptionKey``). Metadata reads need no key, as on GCS;
reads of a named ``generation`` are not checked.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from .classify import HTTPRequest
from .customer_keys import MISSING, UNEXPECTED, WRONG, BadKey, KeyLedger, key_digest
from .gcs_spool import Keep, Release, Spools
from .http_wire import Body
from .proxy import Denial, HTTPFront

#: The Denial code of a status query's answer (not an error: a 308 or 200 the front gives).
_STATUS = "resumable-status"
KEY, KEY_SHA256 = "x-goog-encryption-key", "x-goog-encryption-key-sha256"


def _key_digest(request: HTTPRequest) -> str | Denial | None:
    """The SHA-256 (base64) of the request's customer key; None without one."""
    try:
        return key_digest(request, algorithm="x-goog-encryption-algorithm", key=KEY, digest=KEY_SHA256,
                          hash_name="sha256")
    except BadKey:
        return Denial(400, "customerEncryptionKeyFormatIsInvalid", "Missing or invalid encryption key.")


class GCSFront(HTTPFront):
    """The GCS front: resumable status queries, kept chunks, CSEK reads (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}  # upload_id -> bytes the session holds
        self._done: dict[str, tuple[str, str]] = {}  # upload_id -> (bucket, key) of its object
        self._keys = KeyLedger()  # resumable uploads are known by their upload_id
        self._spools = Spools()

    def keep(self, request: HTTPRequest) -> Keep | None:
        return self._spools.keep(request)

    def release(self, request: HTTPRequest) -> Release | None:
        return self._spools.release(request)

    def stop(self) -> None:
        super().stop()
        self._spools.close()

    def verify(self, request: HTTPRequest, body: Body) -> Denial | None:
        denial = super().verify(request, body)
        if denial is None and request.method == "GET" and (self._keys or request.header(KEY)):
            denial = self._check_key(request)
        if request.method == "POST" and request.query.get("uploadType") == "multipart":
            # The object's name is in the body, readable now, not once it was forwarded.
            operation = self.classify(request)
            request._where = (operation.bucket, operation.key)  # type: ignore[attr-defined]
        if denial is not None or request.method != "PUT" or request.header("Content-Range") != "bytes */*":
            return denial
        upload_id = request.query.get("upload_id")
        with self._lock:
            if upload_id in self._done:
                return Denial(200, _STATUS, json.dumps(self._done[upload_id]))
            if upload_id in self._held:
                return Denial(308, _STATUS, str(self._held[upload_id]))
        return None

    def _check_key(self, request: HTTPRequest) -> Denial | None:
        operation = self.classify(request)
        if operation.name != "get" or "generation" in request.query:
            return None
        given = _key_digest(request)
        if isinstance(given, Denial):
            return given
        verdict = self._keys.verdict((operation.bucket, operation.key), given)
        if verdict == UNEXPECTED:
            return Denial(400, "ResourceNotEncryptedWithCustomerEncryptionKey",
                          "The target object is not encrypted by a customer-supplied encryption key.")
        if verdict == MISSING:
            return Denial(400, "ResourceIsEncryptedWithCustomerEncryptionKey",
                          "The target object is encrypted by a customer-supplied encryption key.")
        if verdict == WRONG:
            return Denial(400, "customerEncryptionKeyIsIncorrect", "The provided key is incorrect.")
        return None

    def error(self, status: int, request: HTTPRequest, *, code: str | None = None,
              message: str | None = None, details: str | None = None) -> tuple[list[tuple[str, str]], bytes]:
        if code != _STATUS:
            return super().error(status, request, code=code, message=message, details=details)
        assert message is not None
        if status == 308:
            held = int(message)
            return [("Range", f"bytes=0-{held - 1}")] if held else [], b""
        bucket, name = json.loads(message)
        payload = json.dumps({"kind": "storage#object", "bucket": bucket, "name": name}).encode()
        return [("Content-Type", "application/json")], payload

    def answered(self, request: HTTPRequest, status: int, headers: Any) -> None:
        super().answered(request, status, headers)
        if request.method == "DELETE" and status == 204 and self._keys:
            operation = self.classify(request)
            self._keys.forget((operation.bucket, operation.key))
        if "/upload/" not in request.raw_path:
            return
        upload_id = request.query.get("upload_id")
        if request.method == "DELETE" and upload_id is not None:  # a cancelled session
            self._spools.forget(upload_id)
        if request.method not in ("POST", "PUT"):
            return
        location = headers.get("Location") or ""
        given = _key_digest(request)
        given = None if isinstance(given, Denial) else given
        if upload_id is None and status == 200 and "upload_id=" in location:  # a session begins
            with self._lock:
                session = location.split("upload_id=", 1)[1].split("&", 1)[0]
                self._held[session] = 0
            self._keys.begin(session, given)
            self._spools.begin(session)
            return
        if upload_id is None:
            where = getattr(request, "_where", None)
            if status == 200 and where is not None:  # a one-request upload made its object
                self._keys.store(where, given)
            return
        with self._lock:
            if status == 308:
                range_header = headers.get("Range") or ""
                self._held[upload_id] = int(range_header.rsplit("-", 1)[1]) + 1 if "-" in range_header else 0
            elif status in (200, 201):
                operation = self.classify(request)
                self._held.pop(upload_id, None)
                self._done[upload_id] = (operation.bucket, operation.key)
                self._keys.finish(upload_id, (operation.bucket, operation.key))
                self._spools.forget(upload_id)
