"""Independent checks of S3 presigned URLs (moto serves them without checking signatures).

Written from the AWS specifications, not with botocore, so a URL signed with the
wrong key, scope or parameters fails here even though moto would serve it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit


def _params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def verify_sigv4(url: str, secret_key: str, method: str = "GET") -> dict[str, str]:
    """Check a SigV4 query-string signature (AWS4-HMAC-SHA256, UNSIGNED-PAYLOAD); returns the params."""
    parts = urlsplit(url)
    params = _params(url)
    assert params["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert params["X-Amz-SignedHeaders"] == "host"
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
        for k, v in sorted(params.items()) if k != "X-Amz-Signature")
    canonical_request = "\n".join([
        method, parts.path or "/", canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"])
    _, date, region, service, terminator = params["X-Amz-Credential"].split("/")
    assert (service, terminator) == ("s3", "aws4_request")
    scope = f"{date}/{region}/s3/aws4_request"
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
        hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, params["X-Amz-Signature"]), "SigV4 signature does not verify"
    return params


def verify_sigv2(url: str, secret_key: str, bucket: str, method: str = "GET") -> dict[str, str]:
    """Check a SigV2 query-string signature (HMAC-SHA1) of a path- or virtual-style URL."""
    parts = urlsplit(url)
    params = _params(url)
    path = parts.path
    if not path.startswith(f"/{bucket}/"):  # virtual-hosted style: the bucket is in the host
        path = f"/{bucket}{path}"
    sub_resources = sorted((k, v) for k, v in params.items() if k.startswith("response-"))
    if sub_resources:
        path += "?" + "&".join(f"{k}={v}" for k, v in sub_resources)
    string_to_sign = f"{method}\n\n\n{params['Expires']}\n{path}"
    expected = base64.b64encode(hmac.new(secret_key.encode(), string_to_sign.encode(), hashlib.sha1).digest())
    assert hmac.compare_digest(expected.decode(), params["Signature"]), "SigV2 signature does not verify"
    return params
