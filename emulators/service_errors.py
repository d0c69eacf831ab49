"""Error answers in each HTTP service's own format, for injected faults and refused requests.

``error_response(service, status)`` gives the headers and body the real
service sends for that status (S3 and Azure XML, GCS JSON or XML, Dropbox JSON
or text), so SDKs parse an injected fault exactly as they would the real one.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from xml.sax.saxutils import escape

Headers = list[tuple[str, str]]

_S3 = {400: ("InvalidRequest", "Invalid Request"), 403: ("AccessDenied", "Access Denied"),
       404: ("NoSuchKey", "The specified key does not exist."),
       405: ("MethodNotAllowed", "The specified method is not allowed against this resource."),
       409: ("OperationAborted", "A conflicting conditional operation is currently in progress."),
       412: ("PreconditionFailed", "At least one of the pre-conditions you specified did not hold"),
       416: ("InvalidRange", "The requested range is not satisfiable"),
       429: ("SlowDown", "Please reduce your request rate."),
       500: ("InternalError", "We encountered an internal error. Please try again."),
       501: ("NotImplemented", "A header you provided implies functionality that is not implemented"),
       503: ("SlowDown", "Please reduce your request rate.")}
_GCS = {400: ("invalid", "Invalid argument."), 401: ("required", "Login Required."),
        403: ("forbidden", "Access denied."), 404: ("notFound", "No such object."),
        409: ("conflict", "Conflict."), 412: ("conditionNotMet", "Precondition Failed"),
        429: ("rateLimitExceeded", "The rate of change requests to the object is too high."),
        500: ("backendError", "Backend Error"), 502: ("backendError", "Bad Gateway"),
        503: ("backendError", "Backend Error")}
_GCS_XML = {400: "InvalidArgument", 403: "AccessDenied", 404: "NoSuchKey", 412: "PreconditionFailed",
            429: "SlowDown", 500: "InternalError", 503: "ServiceUnavailable"}
_AZURE = {400: ("InvalidInput", "One of the request inputs is not valid."),
          403: ("AuthorizationFailure", "This request is not authorized to perform this operation."),
          404: ("BlobNotFound", "The specified blob does not exist."),
          409: ("LeaseIdMissing", "There is currently a lease on the blob and no lease ID was specified."),
          412: ("ConditionNotMet", "The condition specified using HTTP conditional header(s) is not met."),
          416: ("InvalidRange", "The range specified is invalid for the current size of the resource."),
          429: ("ServerBusy", "The server is busy."),
          500: ("InternalError", "The server encountered an internal error. Please retry the request."),
          503: ("ServerBusy",
                "The server is currently unable to receive requests. Please retry your request.")}
_TEXT = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
         429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
         503: "Service Unavailable", 504: "Gateway Timeout"}


def _pick(table: dict[int, tuple[str, str]], status: int) -> tuple[str, str]:
    if status in table:
        return table[status]
    return table[500] if status >= 500 else table[400]


def error_response(service: str, status: int, *, code: str | None = None, message: str | None = None,
                   resource: str = "", details: str | None = None) -> tuple[Headers, bytes]:
    """Headers and body of ``service``'s error answer with ``status``.

    ``code`` is the service's error code (S3 ``SlowDown``, Azure ``ServerBusy``,
    GCS reason ``rateLimitExceeded``, Dropbox error path ``path/not_found``);
    by default the one the service uses for that status. ``resource`` is the
    request path (GCS: decides JSON API vs XML API format).
    """
    if service == "s3":
        return _s3(status, code, message, resource, details)
    if service == "gcs":
        return _gcs(status, code, message, resource, details)
    if service == "azure":
        return _azure(status, code, message)
    if service == "dropbox":
        return _dropbox(status, code, message)
    text = (message or _TEXT.get(status, "Error")).encode()
    return [("Content-Type", "text/plain; charset=utf-8")], text


def _xml(code: str, message: str, **extra: str | None) -> bytes:
    parts = [f"<Code>{escape(code)}</Code>", f"<Message>{escape(message)}</Message>"]
    parts += [f"<{name}>{escape(value)}</{name}>" for name, value in extra.items() if value is not None]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error>' + "".join(parts) + "</Error>").encode()


def _s3(status: int, code: str | None, message: str | None, resource: str,
        details: str | None) -> tuple[Headers, bytes]:
    default_code, default_message = _pick(_S3, status)
    request_id = secrets.token_hex(8).upper()
    body = _xml(code or default_code, message or default_message, Details=details,
                Resource=resource.split("?")[0] or None, RequestId=request_id)
    return [("Content-Type", "application/xml"), ("x-amz-request-id", request_id),
            ("x-amz-id-2", secrets.token_urlsafe(48))], body


def _gcs(status: int, code: str | None, message: str | None, resource: str,
         details: str | None) -> tuple[Headers, bytes]:
    path = resource.split("?")[0]
    if not path.startswith(("/storage/", "/upload/", "/download/", "/batch/")):  # the XML API
        xml_code = code or _GCS_XML.get(status, "InternalError" if status >= 500 else "InvalidArgument")
        text = message or _pick(_GCS, status)[1]
        return [("Content-Type", "application/xml; charset=UTF-8")], _xml(xml_code, text, Details=details)
    reason, default_message = _pick(_GCS, status)
    text = message or default_message
    body = {"error": {"code": status, "message": text,
                      "errors": [{"message": text, "domain": "global", "reason": code or reason}]}}
    return [("Content-Type", "application/json; charset=UTF-8")], json.dumps(body).encode()


def _azure(status: int, code: str | None, message: str | None) -> tuple[Headers, bytes]:
    default_code, default_message = _pick(_AZURE, status)
    code = code or default_code
    request_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")
    text = f"{message or default_message}\nRequestId:{request_id}\nTime:{now}"
    body = ('<?xml version="1.0" encoding="utf-8"?><Error>'
            f"<Code>{escape(code)}</Code><Message>{escape(text)}</Message></Error>").encode()
    return [("Content-Type", "application/xml"), ("x-ms-error-code", code),
            ("x-ms-request-id", request_id)], body


def _dropbox(status: int, code: str | None, message: str | None) -> tuple[Headers, bytes]:
    request_id = [("X-Dropbox-Request-Id", secrets.token_hex(16))]
    if status == 429:
        body = {"error_summary": "too_many_requests/..",
                "error": {"reason": {".tag": code or "too_many_requests"}, "retry_after": 1}}
        return [("Content-Type", "application/json"), ("Retry-After", "1"), *request_id], \
            json.dumps(body).encode()
    if status in (401, 409):
        tags = (code or ("invalid_access_token" if status == 401 else "other")).split("/")
        error: dict = {".tag": tags[-1]}
        for tag in reversed(tags[:-1]):
            error = {".tag": tag, tag: error}
        body = {"error_summary": "/".join(tags) + "/..", "error": error}
        return [("Content-Type", "application/json"), *request_id], json.dumps(body).encode()
    text = message or _TEXT.get(status, "Error")
    extra = [("Retry-After", "1")] if status == 503 else []
    return [("Content-Type", "text/plain; charset=utf-8"), *extra, *request_id], text.encode()
