"""Presigned-URL checks the emulators' proxies make, as S3 and GCS make them.

moto serves presigned URLs and POST uploads without looking at their
signatures, fake-gcs-server serves signed URLs whatever they carry; the real
services refuse a tampered, expired or wrongly signed one. The verifiers here
sit in the proxy in front of those emulators (emulators.proxy) and answer such
requests with the service's own error; requests that carry no query signature
pass untouched (the emulators do not check header signatures).

* :class:`S3Verifier`: SigV4 and SigV2 query authentication (signature, expiry,
  signed headers, known access key) and presigned POST policies (signature,
  expiration, every condition, no unlisted field, content-length-range).
* :class:`GCSVerifier`: V4 signed URLs (GOOG4-RSA-SHA256) and V2 ones
  (``GoogleAccessId``), checked against the service account's public key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
import time
from typing import Any, BinaryIO, Callable
from urllib.parse import quote, unquote

from .classify import HTTPRequest
from .http_wire import Body
from .proxy import Denial

MAX_EXPIRES = 7 * 24 * 3600
CLOCK_SKEW = 15 * 60
_V4_TIME = "%Y%m%dT%H%M%SZ"
#: Sub-resources that are part of a SigV2 canonical resource (botocore's HmacV1Auth list).
_V2_SUBRESOURCES = {
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
    "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId",
    "response-content-type", "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "delete", "lifecycle", "tagging",
    "restore", "storageClass", "notification", "replication", "analytics", "metrics", "inventory",
    "select", "select-type", "object-lock",
}
_S3_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                "Check your key and signing method.")
_GCS_MISMATCH = ("The request signature we calculated does not match the signature you provided. "
                 "Check your Google secret key and signing method.")


def _query_pairs(raw_query: str) -> list[tuple[str, str, str]]:
    """(name, value, raw item) of each query item, percent-decoded ('+' stays '+')."""
    pairs = []
    for item in filter(None, raw_query.split("&")):
        name, _, value = item.partition("=")
        pairs.append((unquote(name), unquote(value), item))
    return pairs


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _canonical_uri(request: HTTPRequest) -> str:
    return quote(unquote(request.raw_path), safe="/~")


def _canonical_headers(request: HTTPRequest, names: list[str], host: str | None = None) -> str:
    lines = []
    for name in names:
        values = request.headers.get_all(name) if hasattr(request.headers, "get_all") else None
        value = ",".join(" ".join(v.split()) for v in (values or [request.header(name)]))
        lines.append(f"{name}:{host if name == 'host' and host is not None else value}\n")
    return "".join(lines)


def _hosts(request: HTTPRequest) -> list[str | None]:
    """The Host header as sent, then without its port: a client may sign the host as it would
    be for the service on its default port (libcloud does), which the real service accepts."""
    host = request.header("Host")
    return [None, host.rsplit(":", 1)[0]] if ":" in host else [None]


def _parse_v4_time(value: str) -> float | None:
    try:
        return dt.datetime.strptime(value, _V4_TIME).replace(tzinfo=dt.timezone.utc).timestamp()
    except ValueError:
        return None


def _http_date(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class S3Verifier:
    """Refuses presigned S3 requests S3 would refuse. ``credentials``: access key -> secret."""

    def __init__(self, credentials: dict[str, str], now: Callable[[], float] = time.time) -> None:
        self.credentials = credentials
        #: The emulator's clock (tests may move it to see a URL expire).
        self.now = now

    def __call__(self, request: HTTPRequest, body: Body) -> Denial | None:
        if request.method == "OPTIONS":
            return None  # a browser's CORS preflight: the bucket's CORS rules answer it, unsigned
        if "Signature" not in request.target and "X-Amz-Algorithm" not in request.target and not (
                request.method == "POST" and "multipart/form-data" in request.header("Content-Type")):
            return None  # no query signature, no browser upload: nothing to check
        q = request.query
        if "X-Amz-Signature" in q or "X-Amz-Algorithm" in q:
            return self._v4(request)
        if "Signature" in q and "AWSAccessKeyId" in q:
            return self._v2(request)
        if request.method == "POST" and "multipart/form-data" in request.header("Content-Type"):
            bucket, _, key = request.path.lstrip("/").partition("/")
            if not bucket:  # a POST to a bucket's own host (virtual-hosted style)
                bucket, key = _host_bucket(request.header("Host")), ""
            if bucket and not key:
                return self._post(request, body, bucket)
        return None

    def _secret(self, access_key: str) -> str | Denial:
        secret = self.credentials.get(access_key)
        if secret is None:
            return Denial(403, "InvalidAccessKeyId",
                          "The AWS Access Key Id you provided does not exist in our records.",
                          f"the S3 emulator knows the access keys {sorted(self.credentials)}; "
                          "S3Emulator.add_credentials() adds one")
        return secret

    # -- SigV4 query ----------------------------------------------------------------------------
    def _v4(self, request: HTTPRequest) -> Denial | None:
        q = request.query
        missing = [p for p in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
                               "X-Amz-SignedHeaders", "X-Amz-Signature") if p not in q]
        if missing:
            return Denial(400, "AuthorizationQueryParametersError",
                          "Query-string authentication version 4 requires the "
                          f"{', '.join(missing)} parameters.")
        if q["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
            return Denial(400, "AuthorizationQueryParametersError",
                          'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
        scope = q["X-Amz-Credential"].split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            return Denial(400, "AuthorizationQueryParametersError",
                          "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                          'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".')
        access_key, date, region, service, _ = scope
        signed_at = _parse_v4_time(q["X-Amz-Date"])
        if signed_at is None or not q["X-Amz-Date"].startswith(date):
            return Denial(400, "AuthorizationQueryParametersError",
                          "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
        try:
            expires = int(q["X-Amz-Expires"])
        except ValueError:
            expires = -1
        if not 0 < expires <= MAX_EXPIRES:
            return Denial(400, "AuthorizationQueryParametersError",
                          "X-Amz-Expires must be less than a week (in seconds) that is 604800"
                          if expires > 0 else "X-Amz-Expires must be non-negative")
        secret = self._secret(access_key)
        if isinstance(secret, Denial):
            return secret
        now = self.now()
        if now > signed_at + expires:
            return Denial(403, "AccessDenied", "Request has expired",
                          f"X-Amz-Expires {expires}, expired at {_http_date(signed_at + expires)}, "
                          f"server time {_http_date(now)}")
        if signed_at > now + CLOCK_SKEW:
            return Denial(403, "AccessDenied", "Request is not valid yet")
        signed_headers = q["X-Amz-SignedHeaders"].split(";")
        if "host" not in signed_headers:
            return Denial(400, "AuthorizationQueryParametersError",
                          "Query-string authentication requires the host header to be signed.")
        query = sorted((_encode(name), _encode(value)) for name, value, _ in _query_pairs(request.raw_query)
                       if name != "X-Amz-Signature")
        key = _signing_key(secret, date, region, service)
        for host in _hosts(request):
            canonical = "\n".join([
                request.method, _canonical_uri(request), "&".join(f"{k}={v}" for k, v in query),
                _canonical_headers(request, signed_headers, host), ";".join(signed_headers),
                q.get("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")])
            string_to_sign = "\n".join([
                "AWS4-HMAC-SHA256", q["X-Amz-Date"], "/".join(scope[1:]),
                hashlib.sha256(canonical.encode()).hexdigest()])
            expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
            if hmac.compare_digest(expected, q["X-Amz-Signature"]):
                return None
        return Denial(403, "SignatureDoesNotMatch", _S3_MISMATCH, f"canonical request: {canonical!r}")

    # -- SigV2 query ----------------------------------------------------------------------------
    def _v2(self, request: HTTPRequest) -> Denial | None:
        q = request.query
        try:
            expires = int(q.get("Expires", ""))
        except ValueError:
            return Denial(403, "AccessDenied", "Query-string authentication requires the Signature, "
                                               "Expires and AWSAccessKeyId parameters")
        secret = self._secret(q["AWSAccessKeyId"])
        if isinstance(secret, Denial):
            return secret
        now = self.now()
        if now > expires:
            return Denial(403, "AccessDenied", "Request has expired",
                          f"expired at {_http_date(expires)}, server time {_http_date(now)}")
        amz = {name.lower(): value for name, value, _ in _query_pairs(request.raw_query)
               if name.lower().startswith("x-amz-")}
        for name, value in request.headers.items():
            if name.lower().startswith("x-amz-"):
                amz[name.lower()] = value.strip()
        string_to_sign = "\n".join([
            request.method,
            request.header("Content-MD5", q.get("content-md5", "")).strip(),
            (request.headers.get("Content-Type") if "Content-Type" in request.headers
             else q.get("content-type", "")).strip(),
            str(expires),
        ]) + "\n" + "".join(f"{name}:{amz[name]}\n" for name in sorted(amz)) + self._v2_resource(request)
        expected = base64.b64encode(hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha1).digest())
        if not hmac.compare_digest(expected.decode(), q["Signature"]):
            return Denial(403, "SignatureDoesNotMatch", _S3_MISMATCH, f"string to sign: {string_to_sign!r}")
        return None

    @staticmethod
    def _v2_resource(request: HTTPRequest) -> str:
        path = request.raw_path
        host = request.header("Host").rsplit(":", 1)[0]
        if host.endswith(".localhost"):
            path = f"/{host[: -len('.localhost')]}{path}"
        subresources = sorted(
            ((name, item.split("=", 1)) for name, _, item in _query_pairs(request.raw_query)
             if name in _V2_SUBRESOURCES), key=lambda pair: pair[0])
        if subresources:
            path += "?" + "&".join(parts[0] if len(parts) == 1 else f"{parts[0]}={unquote(parts[1])}"
                                   for _, parts in subresources)
        return path

    # -- presigned POST ---------------------------------------------------------------------------
    def _post(self, request: HTTPRequest, body: Body, bucket: str) -> Denial | None:
        boundary = re.search(r'boundary="?([^";]+)"?', request.header("Content-Type"))
        if boundary is None:
            return Denial(400, "MalformedPOSTRequest",
                          "The body of your POST request is not well-formed multipart/form-data.")
        form = _read_form(body.spool(), boundary.group(1).encode())
        if isinstance(form, Denial):
            return form
        fields, file_size = form
        if "policy" not in fields:
            return None  # an anonymous POST: the bucket's permissions decide
        denial = self._post_signature(fields)
        if denial is not None:
            return denial
        try:
            policy = json.loads(base64.b64decode(fields["policy"]))
        except (ValueError, binascii.Error):
            return Denial(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.")
        expiration = str(policy.get("expiration", ""))
        try:
            expires_at = dt.datetime.fromisoformat(expiration.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return Denial(400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value.")
        if self.now() > expires_at:
            return Denial(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
        return _check_conditions(policy.get("conditions", []), {**fields, "bucket": bucket}, file_size)

    def _post_signature(self, fields: dict[str, str]) -> Denial | None:
        if "x-amz-signature" in fields:
            if fields.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
                return Denial(400, "InvalidArgument", "POST requires the x-amz-algorithm AWS4-HMAC-SHA256")
            scope = fields.get("x-amz-credential", "").split("/")
            if len(scope) != 5:
                return Denial(400, "InvalidArgument", "POST requires a well-formed x-amz-credential")
            secret = self._secret(scope[0])
            if isinstance(secret, Denial):
                return secret
            expected = hmac.new(_signing_key(secret, scope[1], scope[2], scope[3]), fields["policy"].encode(),
                                hashlib.sha256).hexdigest()
            given = fields["x-amz-signature"]
        elif "signature" in fields and "awsaccesskeyid" in fields:
            secret = self._secret(fields["awsaccesskeyid"])
            if isinstance(secret, Denial):
                return secret
            expected = base64.b64encode(hmac.new(secret.encode(), fields["policy"].encode(),
                                                 hashlib.sha1).digest()).decode()
            given = fields["signature"]
        else:
            return Denial(403, "AccessDenied", "Bucket POST must contain a field named 'x-amz-signature' "
                                               "(or 'signature' and 'AWSAccessKeyId') with the policy")
        if not hmac.compare_digest(expected, given):
            return Denial(403, "SignatureDoesNotMatch", _S3_MISMATCH)
        return None


def _host_bucket(host: str) -> str:
    """The bucket a virtual-hosted request names in its Host, as moto reads it (the first
    label); '' for a host that is the service's own (an IP address, localhost, no dot)."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if "." not in name or re.match(r"localhost|s3[.-]|[\d.]+$|\[", name):
        return ""
    return name.split(".", 1)[0]


#: Form fields a POST policy need not list (S3: these, and x-ignore-*).
_POST_EXEMPT = {"policy", "x-amz-signature", "signature", "awsaccesskeyid", "file"}
_MAX_PRE_DATA = 20 * 1024


def _read_form(spool: BinaryIO, boundary: bytes) -> tuple[dict[str, str], int] | Denial:
    """The fields before the ``file`` part (names in lower case) and the file's size."""
    head = spool.read(_MAX_PRE_DATA + 64 * 1024)
    delimiter = b"--" + boundary
    fields: dict[str, str] = {}
    position = head.find(delimiter)
    while position >= 0:
        start = position + len(delimiter)
        if head[start:start + 2] == b"--":
            break
        header_end = head.find(b"\r\n\r\n", start)
        if header_end < 0:
            break
        headers = head[start:header_end].decode("utf-8", "replace")
        name = re.search(r'name="([^"]*)"', headers)
        field_name = name.group(1).lower() if name else ""
        data_start = header_end + 4
        if field_name == "file":
            if data_start > _MAX_PRE_DATA:
                return Denial(400, "MaxPostPreDataLengthExceeded",
                              "Your POST request fields preceding the upload file were too large.")
            spool.seek(0, 2)
            total = spool.tell()
            spool.seek(max(0, total - len(delimiter) - 1024))
            tail_start = spool.tell()
            tail = spool.read()
            end = tail.rfind(b"\r\n" + delimiter)
            return fields, max(0, tail_start + end - data_start) if end >= 0 else total - data_start
        next_part = head.find(b"\r\n" + delimiter, data_start)
        if next_part < 0:
            break
        fields[field_name] = head[data_start:next_part].decode("utf-8", "replace")
        position = next_part + 2
    return Denial(400, "InvalidArgument", "POST requires exactly one file upload per request.")


def _check_conditions(conditions: list[Any], fields: dict[str, str], file_size: int) -> Denial | None:
    covered = set()

    def failed(condition: Any) -> Denial:
        return Denial(403, "AccessDenied",
                      f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}")

    for condition in conditions:
        if isinstance(condition, dict):
            for name, value in condition.items():
                covered.add(name.lower())
                if fields.get(name.lower()) != str(value):
                    return failed(condition)
        elif isinstance(condition, list) and len(condition) == 3:
            operator = str(condition[0]).lower()
            if operator == "content-length-range":
                if not int(condition[1]) <= file_size <= int(condition[2]):
                    code = "EntityTooLarge" if file_size > int(condition[2]) else "EntityTooSmall"
                    return Denial(400, code, "Your proposed upload is outside the content-length-range "
                                             "of the policy.")
                continue
            name = str(condition[1]).lstrip("$").lower()
            covered.add(name)
            value = fields.get(name)
            if value is None and name != "content-type":
                return failed(condition)
            value = value or ""
            if operator == "eq" and value != str(condition[2]):
                return failed(condition)
            if operator == "starts-with" and not value.startswith(str(condition[2])):
                return failed(condition)
            if operator not in ("eq", "starts-with"):
                return Denial(400, "InvalidPolicyDocument", f"Invalid Policy: unknown operator {operator!r}")
        else:
            return Denial(400, "InvalidPolicyDocument", f"Invalid Policy: invalid condition {condition!r}")
    extra = sorted(name for name in fields if name not in covered and name not in _POST_EXEMPT
                   and name != "bucket" and not name.startswith("x-ignore-"))
    if extra:
        return Denial(403, "AccessDenied",
                      f"Invalid according to Policy: Extra input fields: {', '.join(extra)}")
    return None


def _content_length_range(request: HTTPRequest, body: Body) -> Denial | None:
    """GCS's ``x-goog-content-length-range: min,max`` on an upload: a body outside it is refused."""
    bounds = request.header("x-goog-content-length-range")
    if not bounds:
        return None
    try:
        low, high = (int(part) for part in bounds.split(","))
    except ValueError:
        return Denial(400, "InvalidArgument", "Invalid argument.",
                      f"x-goog-content-length-range must be 'min,max', not {bounds!r}")
    if body.chunked:
        spool = body.spool()
        size = spool.seek(0, 2)
    else:
        size = int(request.header("Content-Length") or 0)
    if not low <= size <= high:
        return Denial(400, "EntityTooLarge" if size > high else "EntityTooSmall",
                      "Your proposed upload is outside the content-length-range of the policy.",
                      f"{size} bytes, x-goog-content-length-range {bounds}")
    return None


class GCSVerifier:
    """Refuses signed GCS URLs GCS would refuse. ``accounts``: client email -> RSA public key."""

    def __init__(self, accounts: dict[str, Any], now: Callable[[], float] = time.time) -> None:
        self.accounts = accounts
        #: The emulator's clock (tests may move it to see a URL expire).
        self.now = now

    def __call__(self, request: HTTPRequest, body: Body) -> Denial | None:
        if request.method == "OPTIONS" or "signature" not in request.target.lower():
            return None  # not a signed URL (or a browser's CORS preflight, which is never signed)
        q = {name.lower(): value for name, value in request.query.items()}
        if "x-goog-signature" in q:
            return self._v4(request, q, body)
        if "googleaccessid" in q and "signature" in q:
            return self._v2(request, q)
        return None

    def _key(self, email: str) -> Any:
        return self.accounts.get(email)

    def _v4(self, request: HTTPRequest, q: dict[str, str], body: Body) -> Denial | None:
        algorithm = q.get("x-goog-algorithm", "")
        if algorithm != "GOOG4-RSA-SHA256":
            return Denial(400, "InvalidArgument", "Invalid argument.",
                          f"the emulator checks GOOG4-RSA-SHA256 signatures only, not {algorithm!r}")
        scope = q.get("x-goog-credential", "").split("/")
        signed_at = _parse_v4_time(q.get("x-goog-date", ""))
        try:
            expires = int(q.get("x-goog-expires", ""))
        except ValueError:
            expires = -1
        if len(scope) != 5 or signed_at is None or expires < 0:
            return Denial(400, "MalformedSecurityHeader", "Your request has a malformed header.",
                          "X-Goog-Credential, X-Goog-Date and X-Goog-Expires must be well formed")
        if expires > MAX_EXPIRES:
            return Denial(400, "InvalidArgument", "Invalid argument.",
                          "Max allowed expiration interval is seven days 604800")
        now = self.now()
        if now > signed_at + expires:
            return Denial(400, "ExpiredToken", "Invalid argument.",
                          f"Request signature expired at: {_http_date(signed_at + expires)}")
        signed_headers = q.get("x-goog-signedheaders", "host").split(";")
        query = sorted(f"{quote(name, safe='~')}={quote(value, safe='~')}"
                       for name, value, _ in _query_pairs(request.raw_query)
                       if name.lower() != "x-goog-signature")
        try:
            signature = binascii.unhexlify(q["x-goog-signature"])
        except (binascii.Error, ValueError):
            signature = b""
        for host in _hosts(request):
            canonical = "\n".join([
                request.method, _canonical_uri(request), "&".join(query),
                _canonical_headers(request, signed_headers, host), ";".join(signed_headers),
                request.header("x-goog-content-sha256", "UNSIGNED-PAYLOAD")])
            string_to_sign = "\n".join(["GOOG4-RSA-SHA256", q["x-goog-date"], "/".join(scope[1:]),
                                        hashlib.sha256(canonical.encode()).hexdigest()])
            if self._verifies(scope[0], signature, string_to_sign):
                return _content_length_range(request, body)
        return Denial(403, "SignatureDoesNotMatch", "Access denied.", _GCS_MISMATCH)

    def _v2(self, request: HTTPRequest, q: dict[str, str]) -> Denial | None:
        try:
            expires = int(q.get("expires", ""))
        except ValueError:
            return Denial(400, "InvalidArgument", "Invalid argument.",
                          "Expires parameter is not a valid long value")
        if self.now() > expires:
            return Denial(400, "ExpiredToken", "Invalid argument.", f"Request has expired: {expires}")
        goog = "".join(f"{name.lower()}:{value.strip()}\n" for name, value in sorted(request.headers.items())
                       if name.lower().startswith("x-goog-"))
        string_to_sign = "\n".join([request.method, request.header("Content-MD5"),
                                    request.header("Content-Type"), str(expires)]) + "\n" + goog + \
            request.raw_path
        try:
            signature = base64.b64decode(q["signature"])
        except (binascii.Error, ValueError):
            signature = b""
        if not self._verifies(q["googleaccessid"], signature, string_to_sign):
            return Denial(403, "SignatureDoesNotMatch", _GCS_MISMATCH)
        return None

    def _verifies(self, email: str, signature: bytes, string_to_sign: str) -> bool:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        key = self._key(email)
        if key is None:
            return False
        try:
            key.verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True
