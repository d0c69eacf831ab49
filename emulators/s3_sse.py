"""SSE-C and bucket owners in front of moto: what S3 refuses and moto serves.

moto (5.x) accepts the ``x-amz-server-side-encryption-customer-*`` headers and ignores
them, so a client that forgets them on HEAD/GET, or on the parts of a multipart upload,
works against moto and fails against S3. :class:`SSECFront` (the S3 emulator's proxy)
remembers which objects were stored with which key (the MD5 S3 checks it by) and answers
as S3 does:

* reading (HEAD, GET) such an object without the headers: 400 ``InvalidRequest``;
* with another key: 403 ``AccessDenied``;
* reading an object stored without SSE-C with the headers: 400 ``InvalidRequest``;
* a header MD5 that is not the key's: 400 ``InvalidArgument``;
* an UploadPart/CompleteMultipartUpload of an SSE-C multipart upload without its key: 400.

Only the current version of an object is checked: a read that names a ``versionId``
passes unchecked. The emulator keeps no key, only its MD5.

It also checks ``x-amz-expected-bucket-owner``, which moto ignores: every bucket belongs
to moto's account (:data:`ACCOUNT`); any other expected owner gets 403 ``AccessDenied``.
"""

from __future__ import annotations

from typing import Any

from .classify import HTTPRequest
from .customer_keys import MISSING, UNEXPECTED, WRONG, BadKey, KeyLedger, key_digest
from .http_wire import Body
from .ops import Operation
from .proxy import Denial, HTTPFront

ALGORITHM = "x-amz-server-side-encryption-customer-algorithm"
KEY = "x-amz-server-side-encryption-customer-key"
KEY_MD5 = "x-amz-server-side-encryption-customer-key-md5"
EXPECTED_OWNER = "x-amz-expected-bucket-owner"
#: The account every moto bucket belongs to (moto's default account).
ACCOUNT = "123456789012"
_READS = {"get", "head"}
_PARTS = {"upload_part", "complete_multipart"}
_STORED_WITH_SSE_C = ("The object was stored using a form of Server Side Encryption. The correct "
                      "parameters must be provided to retrieve the object.")


_BAD_KEY = {
    "algorithm": "Requests specifying Server Side Encryption with Customer provided keys must provide a "
                 "valid encryption algorithm and key.",
    "key": "The secret key was invalid for the specified algorithm.",
    "digest": "The calculated MD5 hash of the key did not match the hash that was provided.",
}


def _customer_key(request: HTTPRequest) -> str | Denial | None:
    """The MD5 (base64) of the request's customer key; None without SSE-C headers."""
    try:
        return key_digest(request, algorithm=ALGORITHM, key=KEY, digest=KEY_MD5, hash_name="md5")
    except BadKey as bad:
        return Denial(400, "InvalidArgument", _BAD_KEY[bad.reason])


class SSECFront(HTTPFront):
    """The S3 front, checking SSE-C as S3 does (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._keys = KeyLedger()  # multipart uploads are known by their (bucket, key)

    def forget(self) -> None:
        """Forget every object (the emulator was wiped)."""
        self._keys.forget()

    def verify(self, request: HTTPRequest, body: Body) -> Denial | None:
        denial = super().verify(request, body)
        owner = request.header(EXPECTED_OWNER)
        if denial is None and owner and owner != ACCOUNT:
            denial = Denial(403, "AccessDenied", "Access Denied")
        if denial is not None or request.method not in ("GET", "HEAD", "PUT", "POST"):
            return denial
        if not (self._keys or request.header(ALGORITHM) or request.header(KEY)):
            return None  # nothing to check (the common case): no need to classify
        operation = self.classify(request)
        given = _customer_key(request)
        if isinstance(given, Denial):
            return given
        where = (operation.bucket, operation.key)
        if operation.name in _READS and "versionId" not in request.query:
            verdict = self._keys.verdict(where, given)
        elif operation.name in _PARTS:
            begun = self._keys.began_with(where)
            verdict = None if begun is None else self._keys.verdict_of(begun, given)
        else:
            return None
        if verdict == UNEXPECTED:
            return Denial(400, "InvalidRequest",
                          "The encryption parameters are not applicable to this object.")
        if verdict == MISSING:
            return Denial(400, "InvalidRequest", _STORED_WITH_SSE_C if operation.name in _READS else
                          "The multipart upload initiate requested encryption. Subsequent part requests "
                          "must include the appropriate encryption parameters.")
        if verdict == WRONG:
            return Denial(403, "AccessDenied", "Access Denied")
        return None

    def record(self, request: HTTPRequest, operation: Operation, status: int | None, bytes_in: int,
               bytes_out: int, fault: Any, headers: Any) -> None:
        super().record(request, operation, status, bytes_in, bytes_out, fault, headers)
        if status is None or not 200 <= status < 300 or request.method not in ("PUT", "POST", "DELETE"):
            return
        operation = self.classify(request)
        where = (operation.bucket, operation.key)
        given = _customer_key(request)
        given = None if isinstance(given, Denial) else given
        if operation.name in ("put", "copy"):
            self._keys.store(where, given)
        elif operation.name == "create_multipart":
            self._keys.begin(where, given)
        elif operation.name == "complete_multipart":
            self._keys.finish(where, where)
        elif operation.name == "delete":
            self._keys.forget(where)
