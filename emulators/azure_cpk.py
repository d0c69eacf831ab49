"""Customer-provided keys (CPK) in front of Azurite: what Azure refuses and Azurite serves.

Azurite (3.x) accepts the ``x-ms-encryption-*`` headers and ignores them, so a client
that forgets the key on a read works against Azurite and fails against Azure.
:class:`AzureFront` (the Azure emulator's proxy) remembers which blobs were stored with
which key (its SHA-256, never the key; ``emulators.customer_keys``) and answers as Azure
does: reading (Get Blob, Get Blob Properties) such a blob without the key is 409
``BlobUsesCustomerSpecifiedEncryption``; with another key, 409
``BlobCustomerSpecifiedEncryptionMismatch``; with a key, a blob stored without one, 409
``BlobDoesNotUseCustomerSpecifiedEncryption``. Reads of a snapshot or version pass unchecked.
"""

from __future__ import annotations

from typing import Any

from .classify import HTTPRequest
from .customer_keys import MISSING, UNEXPECTED, WRONG, BadKey, KeyLedger, key_digest
from .http_wire import Body
from .ops import Operation
from .proxy import Denial, HTTPFront

KEY, KEY_SHA256 = "x-ms-encryption-key", "x-ms-encryption-key-sha256"
_DENIALS = {
    MISSING: ("BlobUsesCustomerSpecifiedEncryption",
              "The blob is encrypted with customer specified encryption, but it was not provided in the "
              "request."),
    WRONG: ("BlobCustomerSpecifiedEncryptionMismatch",
            "The provided customer specified encryption key does not match the one the blob was stored "
            "with."),
    UNEXPECTED: ("BlobDoesNotUseCustomerSpecifiedEncryption",
                 "The blob is not encrypted with customer specified encryption."),
}


def _key_digest(request: HTTPRequest) -> str | Denial | None:
    """The SHA-256 (base64) of the request's customer key; None without one."""
    try:
        return key_digest(request, algorithm="x-ms-encryption-algorithm", key=KEY, digest=KEY_SHA256,
                          hash_name="sha256")
    except BadKey:
        return Denial(400, "InvalidHeaderValue",
                      "The value for one of the HTTP headers is not in the correct format.")


class AzureFront(HTTPFront):
    """The Azure front, checking customer-provided keys as Azure does (module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keys = KeyLedger()

    def verify(self, request: HTTPRequest, body: Body) -> Denial | None:
        denial = super().verify(request, body)
        if denial is not None or request.method not in ("GET", "HEAD"):
            return denial
        if not (self._keys or request.header(KEY)):
            return None
        if "snapshot" in request.query or "versionid" in request.query:
            return None
        operation = self.classify(request)
        if operation.name not in ("get", "head"):
            return None
        given = _key_digest(request)
        if isinstance(given, Denial):
            return given
        verdict = self._keys.verdict((operation.bucket, operation.key), given)
        if verdict is None:
            return None
        return Denial(409, *_DENIALS[verdict])

    def record(self, request: HTTPRequest, operation: Operation, status: int | None, bytes_in: int,
               bytes_out: int, fault: Any, headers: Any) -> None:
        super().record(request, operation, status, bytes_in, bytes_out, fault, headers)
        if status is None or not 200 <= status < 300 or request.method not in ("PUT", "DELETE"):
            return
        operation = self.classify(request)
        given = _key_digest(request)
        where = (operation.bucket, operation.key)
        if operation.name in ("put", "complete_multipart"):
            self._keys.store(where, None if isinstance(given, Denial) else given)
        elif operation.name == "delete":
            self._keys.forget(where)
