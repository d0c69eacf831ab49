"""Which operation an HTTP request to S3, GCS, Azure Blob or Dropbox is (see emulators.ops).

Each classifier reads the method, path, query and headers (and, for requests
that name their object only in a small JSON body, the start of that body) and
returns an :class:`~emulators.ops.Operation`: the operation, the bucket (or
container) and the key. A classifier that needs what the service answered to
name later calls (GCS resumable sessions) learns it in ``learn()``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, unquote, urlsplit

from .http_wire import content_range
from .ops import Operation


@dataclass
class HTTPRequest:
    """A request as the proxy received it."""

    method: str
    target: str  # path and query, as sent
    headers: Mapping[str, str]
    #: ``peek(n)``: up to n first bytes of the body (they are still forwarded).
    peek: Callable[[int], bytes] = field(default=lambda n: b"", repr=False)

    @cached_property
    def raw_path(self) -> str:
        return self.target.partition("?")[0] or "/"

    @cached_property
    def raw_query(self) -> str:
        return self.target.partition("?")[2]

    @cached_property
    def path(self) -> str:
        return unquote(self.raw_path)

    @cached_property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.raw_query, keep_blank_values=True))

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name) or default

    def json_body(self, limit: int = 64 * 1024) -> Any:
        """The body as JSON when it is a small JSON document, else None."""
        if "json" not in self.header("Content-Type") or int(self.header("Content-Length", "0") or 0) > limit:
            return None
        try:
            return json.loads(self.peek(limit) or b"null")
        except ValueError:
            return None


class Classifier:
    """Base: ``classify(request)`` names the operation; ``learn()`` sees the answer."""

    def classify(self, request: HTTPRequest) -> Operation:
        raise NotImplementedError

    def learn(self, request: HTTPRequest, operation: Operation, status: int,
              headers: Mapping[str, str]) -> None:
        """Called with the service's answer to a request (default: nothing to learn)."""


# -- S3 -------------------------------------------------------------------------------------

_S3_BUCKET_CONFIG = {"acl", "policy", "cors", "versioning", "tagging", "lifecycle", "location",
                     "object-lock", "ownershipControls", "publicAccessBlock", "encryption", "website",
                     "logging", "notification", "replication", "accelerate", "requestPayment"}


class S3Classifier(Classifier):
    """Path-style requests (``/bucket/key``), and ``<bucket>.localhost`` virtual hosts."""

    def classify(self, request: HTTPRequest) -> Operation:
        host = request.header("Host").rsplit(":", 1)[0]
        if host.endswith(".localhost"):
            bucket, key = host[: -len(".localhost")], request.path.lstrip("/")
        else:
            bucket, _, key = request.path.lstrip("/").partition("/")
        if bucket.startswith("moto-api") or not bucket:
            return Operation("list_buckets" if not bucket and request.method == "GET" else "other")
        q, method = request.query, request.method
        if not key:
            return Operation(self._bucket_op(method, q), bucket)
        return Operation(self._object_op(method, q, request), bucket, key)

    @staticmethod
    def _bucket_op(method: str, q: dict[str, str]) -> str:
        config = bool(_S3_BUCKET_CONFIG & q.keys())
        if method == "GET":
            return "list_multipart" if "uploads" in q else "bucket_config" if config else "list"
        if method == "PUT":
            return "bucket_config" if config else "create_bucket"
        if method == "DELETE":
            return "bucket_config" if config else "delete_bucket"
        if method == "HEAD":
            return "head_bucket"
        if method == "POST":
            return "delete_many" if "delete" in q else "post"
        return "other"

    @staticmethod
    def _object_op(method: str, q: dict[str, str], request: HTTPRequest) -> str:
        copy = bool(request.header("x-amz-copy-source"))
        if method == "PUT":
            if "uploadId" in q and "partNumber" in q:
                return "upload_part_copy" if copy else "upload_part"
            if "acl" in q:
                return "put_acl"
            if "tagging" in q:
                return "put_tagging"
            return "copy" if copy else "put"
        if method == "POST":
            if "uploads" in q:
                return "create_multipart"
            return "complete_multipart" if "uploadId" in q else "other"
        if method == "GET":
            return ("list_parts" if "uploadId" in q else "get_acl" if "acl" in q
                    else "get_tagging" if "tagging" in q else "get")
        if method == "HEAD":
            return "head"
        if method == "DELETE":
            return "abort_multipart" if "uploadId" in q else "delete_tagging" if "tagging" in q else "delete"
        return "other"


# -- GCS --------------------------------------------------------------------------------------



class GCSClassifier(Classifier):
    """The JSON API (``/storage/v1``, ``/upload``, ``/download``) and the XML API (``/bucket/key``)."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def classify(self, request: HTTPRequest) -> Operation:
        raw = request.raw_path
        for prefix, handler in (("/upload/storage/v1/b/", self._upload), ("/storage/v1/b", self._api),
                                ("/download/storage/v1/b/", self._download)):
            if raw.startswith(prefix):
                return handler(request, [unquote(p) for p in raw[len(prefix):].split("/")])
        if raw.startswith("/batch/"):
            return Operation("batch")
        bucket, _, key = request.path.lstrip("/").partition("/")
        if not bucket:
            return Operation("list_buckets" if request.method == "GET" else "other")
        if not key:
            return Operation({"GET": "list", "PUT": "create_bucket", "DELETE": "delete_bucket",
                              "HEAD": "head_bucket"}.get(request.method, "other"), bucket)
        return Operation({"GET": "get", "HEAD": "head", "PUT": "put", "DELETE": "delete",
                          "POST": "put"}.get(request.method, "other"), bucket, key)

    def _api(self, request: HTTPRequest, parts: list[str]) -> Operation:
        method = request.method
        parts = [p for p in parts if p] if parts[:1] == [""] else parts
        if not parts or parts == [""]:
            return Operation("list_buckets" if method == "GET" else "create_bucket" if method == "POST"
                             else "other")
        bucket = parts[0]
        if len(parts) == 1:
            return Operation({"GET": "head_bucket", "DELETE": "delete_bucket"}.get(method, "bucket_config"),
                             bucket)
        if len(parts) == 2 or parts[1] != "o":
            return Operation("list" if parts[1:] == ["o"] and method == "GET" else "bucket_config", bucket)
        key = parts[2]
        if len(parts) > 3:
            action = parts[3]
            if action in ("copyTo", "rewriteTo") and len(parts) >= 8:  # .../copyTo/b/{bucket}/o/{key}
                return Operation("copy", parts[5], parts[7])
            return Operation("compose" if action == "compose" else "other", bucket, key)
        if method == "GET":
            return Operation("get" if request.query.get("alt") == "media" else "head", bucket, key)
        return Operation({"DELETE": "delete", "PATCH": "update", "PUT": "update"}.get(method, "other"),
                         bucket, key)

    def _download(self, request: HTTPRequest, parts: list[str]) -> Operation:
        return Operation("get", parts[0], parts[2] if len(parts) > 2 else "")

    def _upload(self, request: HTTPRequest, parts: list[str]) -> Operation:
        bucket, q = parts[0], request.query
        upload_id = q.get("upload_id")
        if upload_id:
            known_bucket, key = self._sessions.get(upload_id, (bucket, q.get("name", "")))
            if request.method == "DELETE":
                return Operation("abort_multipart", known_bucket, key)
            parsed = content_range(request.header("Content-Range"))
            if parsed and parsed[2] is not None:
                return Operation("complete_multipart", known_bucket, key)
            if parsed and parsed[0] is None:
                return Operation("upload_status", known_bucket, key)
            return Operation("upload_part", known_bucket, key)
        key = q.get("name", "")
        if q.get("uploadType") == "resumable":
            body = request.json_body()
            if isinstance(body, dict):
                key = body.get("name", key)
            return Operation("create_multipart", bucket, key)
        if not key and q.get("uploadType") == "multipart":
            key = _multipart_metadata_name(request)
        return Operation("put", bucket, key)

    def learn(self, request: HTTPRequest, operation: Operation, status: int,
              headers: Mapping[str, str]) -> None:
        if operation.name == "create_multipart" and status < 300:
            location = headers.get("Location") or ""
            upload_id = dict(parse_qsl(urlsplit(location).query)).get("upload_id")
            if upload_id:
                self._sessions[upload_id] = (operation.bucket, operation.key)
                while len(self._sessions) > 1000:
                    self._sessions.popitem(last=False)


def _multipart_metadata_name(request: HTTPRequest) -> str:
    """The object name in the JSON part that opens a ``multipart/related`` upload."""
    head = request.peek(64 * 1024)
    start = head.find(b"\r\n\r\n")
    if start < 0:
        return ""
    end = head.find(b"\r\n--", start)
    try:
        metadata = json.loads(head[start + 4: end if end > 0 else None])
    except ValueError:
        return ""
    return metadata.get("name", "") if isinstance(metadata, dict) else ""


# -- Azure Blob -------------------------------------------------------------------------------

class AzureClassifier(Classifier):
    """Azurite's path-style requests: ``/account/container/blob``."""

    def classify(self, request: HTTPRequest) -> Operation:
        _, container, blob = (request.path.lstrip("/").split("/", 2) + ["", ""])[:3]
        q, method = request.query, request.method
        comp = q.get("comp", "")
        if not container:
            if comp == "list":
                return Operation("list_buckets")
            return Operation("service_config" if q.get("restype") == "service" else "other")
        if not blob:
            if comp == "list":
                return Operation("list", container)
            if comp:
                return Operation("bucket_config", container)
            return Operation({"PUT": "create_bucket", "DELETE": "delete_bucket", "GET": "head_bucket",
                              "HEAD": "head_bucket"}.get(method, "other"), container)
        if method == "PUT":
            name = {"block": "upload_part", "blocklist": "complete_multipart", "metadata": "set_metadata",
                    "properties": "set_properties", "tags": "tags", "lease": "lease"}.get(comp)
            if name is None:
                name = "copy" if request.header("x-ms-copy-source") and not comp else "put" if not comp \
                    else "other"
            return Operation(name, container, blob)
        if method in ("GET", "HEAD"):
            if comp == "blocklist":
                return Operation("list_parts", container, blob)
            if comp in ("tags", "lease"):
                return Operation(comp, container, blob)
            return Operation("get" if method == "GET" and not comp else "head", container, blob)
        if method == "DELETE":
            return Operation("delete", container, blob)
        return Operation("other", container, blob)


# -- Dropbox ----------------------------------------------------------------------------------

_DROPBOX_ROUTES = {
    "files/upload": "put", "files/upload_session/start": "create_multipart",
    "files/upload_session/append_v2": "upload_part", "files/upload_session/append": "upload_part",
    "files/upload_session/finish": "complete_multipart",
    "files/upload_session/finish_batch_v2": "complete_multipart",
    "files/download": "get", "files/get_metadata": "head", "files/list_folder": "list",
    "files/list_folder/continue": "list", "files/delete_v2": "delete", "files/delete": "delete",
    "files/delete_batch": "delete_many", "files/copy_v2": "copy", "files/move_v2": "rename",
    "files/create_folder_v2": "mkdir", "files/get_temporary_link": "get_link",
}


class DropboxClassifier(Classifier):
    """API v2 routes (``/2/<route>``), temporary links and the OAuth token endpoint."""

    def classify(self, request: HTTPRequest) -> Operation:
        path = request.path
        if path == "/oauth2/token":
            return Operation("login")
        if path.startswith("/tmplink/"):
            return Operation("get", "", "/" + path.split("/", 3)[-1])
        route = path[3:] if path.startswith("/2/") else ""
        name = _DROPBOX_ROUTES.get(route, "other")
        arg = self._arg(request)
        key = ""
        if isinstance(arg, dict):
            commit = arg.get("commit") if isinstance(arg.get("commit"), dict) else {}
            key = arg.get("to_path") or arg.get("path") or commit.get("path") or ""
        return Operation(name, "", key if isinstance(key, str) else "")

    @staticmethod
    def _arg(request: HTTPRequest) -> Any:
        raw = request.header("Dropbox-API-Arg") or request.query.get("arg")
        if raw:
            try:
                return json.loads(raw)
            except ValueError:
                return None
        return request.json_body()


CLASSIFIERS: dict[str, Callable[[], Classifier]] = {
    "s3": S3Classifier, "gcs": GCSClassifier, "azure": AzureClassifier, "dropbox": DropboxClassifier,
}
