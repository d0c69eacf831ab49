"""Google Cloud Storage on google-cloud-storage: ``GoogleCloudStorage``.

Reads are one streamed (raw, ranged) download; small saves are one multipart
upload; larger ones a resumable upload sent in parts of ``GS_BLOB_CHUNK_SIZE``
and cancelled on failure, so nothing is visible until it is finalised (see
``.upload``).
Create-only saves carry ``ifGenerationMatch=0``.

This module holds the storage's options and hooks only; the mechanisms are beside it
(``.upload``, ``.retry``, ``.params``, ``.credentials``, ``.signing``, ``.direct``,
``.compat``). It is longer than before the consolidation (349 lines) because the options
and hooks of later features (customer-supplied keys and generations on reads, retries,
direct uploads, IAM signing with token refresh) are declared here.
"""

from __future__ import annotations

import codecs
import datetime
import os
import re
import threading
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from typing import Any, Iterator
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured

from storages.core import (
    BaseStorage,
    ChecksumMismatch,
    ObjectInfo,
    Option,
    ServiceUnavailable,
    Upload,
    split_listing,
    to_bool,
    to_int,
    translated,
)
from storages.core.checksums import decode
from storages.core.compress import (
    DEFAULT_GZIP_CONTENT_TYPES,
    GzipUpload,
    has_compressed_mark,
    metadata_headers,
    should_gzip,
    with_compressed_mark,
)
from storages.core.direct import DirectUpload, UploadRequest
from storages.core.keyed import KeyedObjectParameters
from storages.core.names import relative_to_root
from storages.core.streams import ResponseStream

from . import params as object_params
from .compat import CONTENT_ENCODING, CONTENT_TYPE, GoogleCloudFile
from .credentials import to_credentials
from .direct import upload_headers
from .retry import media_get, retried
from .signing import iam_sign_params
from .upload import TIMEOUT, GCSUpload

CHUNK_MULTIPLE = 256 * 1024  # GCS resumable chunks are multiples of 256 KiB
DEFAULT_PART_SIZE = 8 * 1024 * 1024
PUBLIC_ENDPOINT = "https://storage.googleapis.com"
PUBLIC_ACLS = {"publicRead", "public-read"}
OTEL_TRACES_ENV = "ENABLE_GCS_PYTHON_CLIENT_OTEL_TRACES"


def to_timedelta(value: Any) -> datetime.timedelta:
    """GS_EXPIRATION: a timedelta, or seconds."""
    if isinstance(value, datetime.timedelta):
        return value
    return datetime.timedelta(seconds=int(value))


def to_chunk_size(value: Any) -> int:
    """GS_BLOB_CHUNK_SIZE: a positive multiple of 256 KiB."""
    size = int(value)
    if size <= 0 or size % CHUNK_MULTIPLE:
        raise ValueError(f"{size} is not a positive multiple of 256 KiB ({CHUNK_MULTIPLE} bytes)")
    return size


def to_endpoint(value: Any) -> str | None:
    """An emulator host: 'host:port' or a URL, without a trailing slash."""
    text = str(value).strip().rstrip("/")
    if not text:
        return None
    return text if "://" in text else f"http://{text}"


class GoogleCloudStorage(KeyedObjectParameters, BaseStorage):
    """Files in a Google Cloud Storage bucket."""

    options = (
        Option("bucket_name", ("GS_BUCKET_NAME",)),
        Option("project_id", ("GS_PROJECT_ID",)),
        Option("credentials", ("GS_CREDENTIALS",), secret=True, convert=to_credentials),
        Option("location", ("GS_LOCATION",), ""),
        Option("auto_create_bucket", ("GS_AUTO_CREATE_BUCKET",), False, convert=to_bool),
        Option("auto_create_acl", ("GS_AUTO_CREATE_ACL",), "projectPrivate"),
        Option("file_name_charset", ("GS_FILE_CHARSET",), "utf-8"),
        Option("file_overwrite", ("GS_FILE_OVERWRITE",), True, convert=to_bool),
        Option("max_memory_size", ("GS_MAX_MEMORY_SIZE",), 0, convert=to_int),
        Option("default_acl", ("GS_DEFAULT_ACL",)),
        Option("querystring_auth", ("GS_QUERYSTRING_AUTH",), True, convert=to_bool),
        Option("expiration", ("GS_EXPIRATION",), datetime.timedelta(seconds=86400), convert=to_timedelta),
        Option("gzip", ("GS_IS_GZIPPED",), False, convert=to_bool),
        Option("gzip_content_types", ("GZIP_CONTENT_TYPES",), DEFAULT_GZIP_CONTENT_TYPES, convert=tuple),
        Option("decode_gzip", ("GS_DECODE_GZIP",), False, convert=to_bool),
        Option("object_parameters", ("GS_OBJECT_PARAMETERS",), dict),
        Option("blob_chunk_size", ("GS_BLOB_CHUNK_SIZE",), None, convert=to_chunk_size),
        Option("custom_endpoint", ("GS_CUSTOM_ENDPOINT",)),
        Option("emulator_host", ("GS_EMULATOR_HOST",), None, env=("STORAGE_EMULATOR_HOST",),
               convert=to_endpoint),
        Option("iam_sign_blob", ("GS_IAM_SIGN_BLOB",), False, convert=to_bool),
        Option("sa_email", ("GS_SA_EMAIL",)),
    )
    unsupported = {"accessed_time": "Google Cloud Storage does not record access times"}
    sdk_modules, sdk_extra = ("google.cloud.storage",), "google"
    container_option, auto_create_option = "bucket_name", "auto_create_bucket"
    file_class = GoogleCloudFile
    key_rules = object_params  # customer keys in object_parameters: secrets

    def _options_changed(self) -> None:
        super()._options_changed()
        self.location = (self.location or "").strip("/")
        self.part_size = self.blob_chunk_size or DEFAULT_PART_SIZE
        # Reads stream: an open file holds one buffer, at most GS_MAX_MEMORY_SIZE if set.
        self.chunk_size = min(BaseStorage.chunk_size, self.max_memory_size or BaseStorage.chunk_size)
        if self.custom_endpoint:
            self.custom_endpoint = str(self.custom_endpoint).rstrip("/")
        try:
            codecs.lookup(self.file_name_charset)
        except LookupError:
            raise ImproperlyConfigured(
                f"GS_FILE_CHARSET: unknown encoding {self.file_name_charset!r}") from None
        self._bucket_ready = not self.auto_create_bucket
        self._bucket_lock = threading.Lock()
        self._require("google.cloud.storage")

    # -- client ----------------------------------------------------------------
    @property
    def bucket_id(self) -> str:
        return self.container_name()

    def endpoint(self) -> str:
        return f"{self.emulator_host or PUBLIC_ENDPOINT} (bucket {self.bucket_name!r})"

    def _make_client(self) -> Any:
        gcs = self._require("google.cloud.storage")
        if self.emulator_host:
            # Emulators check no auth: API calls are anonymous (GS_CREDENTIALS still signs URLs).
            from google.auth.credentials import AnonymousCredentials

            client = gcs.Client(project=self.project_id, credentials=AnonymousCredentials(),
                                client_options={"api_endpoint": self.emulator_host})
        else:
            kwargs: dict[str, Any] = {"credentials": self.credentials}
            if self.project_id:
                kwargs["project"] = self.project_id
            client = gcs.Client(**kwargs)
        if os.environ.get(OTEL_TRACES_ENV, "").strip().lower() not in {"1", "true", "yes", "on"}:
            # The SDK (3.x) fetches each bucket's metadata in a background thread to label
            # OpenTelemetry spans; with tracing off that is only an extra request per client.
            client._bucket_metadata_cache = None
        return client

    @property
    def client(self) -> Any:
        """This thread's ``google.cloud.storage.Client``."""
        return self._per_thread("client", self._make_client)

    @property
    def bucket(self) -> Any:
        """This thread's ``Bucket`` (created on first use when GS_AUTO_CREATE_BUCKET is on)."""
        bucket = self._per_thread("bucket", lambda: self.client.bucket(self.bucket_id))
        if not self._bucket_ready:
            self._create_bucket(bucket)
        return bucket

    def _create_bucket(self, bucket: Any) -> None:
        from google.api_core.exceptions import Conflict
        from google.cloud.storage.acl import BucketACL

        with self._bucket_lock:
            if self._bucket_ready:
                return
            try:
                acl = BucketACL.validate_predefined(self.auto_create_acl)
            except ValueError as exc:
                raise ImproperlyConfigured(f"GS_AUTO_CREATE_ACL: {exc}") from None
            try:
                self.client.create_bucket(bucket, predefined_acl=acl)
            except Conflict:
                pass  # it exists already
            self._bucket_ready = True

    # -- errors ----------------------------------------------------------------
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        from google.api_core import exceptions as api
        from google.auth import exceptions as auth
        from urllib3.exceptions import ProtocolError

        where = f"GCS bucket {self.bucket_name!r}"
        if isinstance(exc, api.NotFound):
            return FileNotFoundError(f"{name!r} does not exist in {where}")
        if isinstance(exc, api.BadRequest) and re.search(r"(CRC32C|MD5).*doesn't match", str(exc.message)):
            return ChecksumMismatch(f"GCS refused {name!r} in {where}: its bytes were damaged in transit "
                                    f"({exc.message}); nothing was stored")
        if isinstance(exc, api.PreconditionFailed):
            return FileExistsError(f"{name!r} already exists in {where}")
        if isinstance(exc, (api.Forbidden, api.Unauthorized)):
            return PermissionError(f"GCS refused access to {name!r} in {where}: {exc.message}; "
                                   "check GS_CREDENTIALS and the bucket's permissions")
        if isinstance(exc, api.ServerError):
            return ServiceUnavailable(f"GCS at {self.endpoint()} failed: {exc.code} {exc.message}")
        if isinstance(exc, auth.DefaultCredentialsError):
            return ImproperlyConfigured(f"No Google credentials found ({exc}); set GS_CREDENTIALS, "
                                        "GOOGLE_APPLICATION_CREDENTIALS, or STORAGE_EMULATOR_HOST")
        if isinstance(exc, (auth.TransportError, ProtocolError)):
            return ServiceUnavailable(f"GCS at {self.endpoint()} is unreachable or cut the connection: {exc}")
        return super().translate_error(exc, name)

    # -- hooks -----------------------------------------------------------------
    def _stat(self, key: str) -> ObjectInfo:
        _, encryption_key, generation = object_params.split(self._params_of(key))
        blob = self.bucket.get_blob(key, timeout=TIMEOUT,
                                    encryption_key=encryption_key, generation=generation)
        if blob is None:
            raise FileNotFoundError(f"{key!r} does not exist in GCS bucket {self.bucket_name!r}")
        return ObjectInfo(size=blob.size, modified=blob.updated, created=blob.time_created,
                          content_type=blob.content_type, content_encoding=blob.content_encoding,
                          etag=blob.etag, compressed=has_compressed_mark(blob.metadata))

    def _params_of(self, key: str) -> dict[str, Any]:
        return dict(self.get_object_parameters(relative_to_root(self.location, key)))

    def _open_stream(self, key: str, start: int) -> tuple[Any, ObjectInfo]:
        _, encryption_key, pinned = object_params.split(self._params_of(key))
        headers = object_params.key_headers(encryption_key)

        client, bucket = self.client, self.bucket.name
        response = retried(lambda: media_get(client, bucket, key, start, headers, pinned), "download")
        return ResponseStream(response, decode_content=False), _info_from_headers(response.headers)

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        params, encryption_key, _ = object_params.split(self._params_of(key))
        acl = params.pop("acl", self.default_acl)
        content_type = params.pop("content_type", content_type)
        blob = self.bucket.blob(key, encryption_key=encryption_key)
        blob.content_type = content_type  # in the metadata: emulators ignore X-Upload-Content-Type
        for prop, value in params.items():
            if not isinstance(getattr(type(blob), prop, None), property):
                raise ImproperlyConfigured(f"GS_OBJECT_PARAMETERS: {prop!r} is not a blob property")
            setattr(blob, prop, value)
        compress = (self.gzip and not blob.content_encoding
                    and should_gzip(content_type, self.gzip_content_types))
        if compress:
            blob.content_encoding = "gzip"
            blob.metadata = with_compressed_mark(blob.metadata)
        upload: Upload = GCSUpload(self.client, blob, create_only=create_only, content_type=content_type,
                                   predefined_acl=acl, missing_bucket=self.missing_container,
                                   checksums=self.checksums,
                                   headers=object_params.key_headers(encryption_key))
        return GzipUpload(upload, self.part_size) if compress else upload

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Blob properties (plus ``acl``) for ``name``; override to vary them per file. Also
        ``encryption_key`` (a customer-supplied key: uploads and reads) and ``generation``
        (reads): see ``.params``."""
        return dict(self.object_parameters or {})

    def _delete(self, key: str) -> bool:
        from google.api_core.exceptions import NotFound

        try:
            self.bucket.delete_blob(key, timeout=TIMEOUT)
        except NotFound:  # no such object (or no bucket: _is_dir tells)
            return False
        return True

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        with self._bucket_must_exist():
            iterator = self.client.list_blobs(self.bucket, prefix=prefix, delimiter="/", timeout=TIMEOUT)
            keys = [blob.name for page in iterator.pages for blob in page]
        return split_listing(prefix, keys, sorted(iterator.prefixes))

    def _is_dir(self, prefix: str) -> bool:
        with self._bucket_must_exist():
            blobs = self.client.list_blobs(self.bucket, prefix=prefix, max_results=1, timeout=TIMEOUT)
            return next(iter(blobs), None) is not None

    @contextmanager
    def _bucket_must_exist(self) -> Iterator[None]:
        """A listing is 404 only when the bucket is missing."""
        from google.api_core.exceptions import NotFound

        try:
            yield
        except NotFound as exc:
            raise self.missing_container() from exc

    # -- urls ------------------------------------------------------------------
    def url(self, name: str, parameters: dict[str, Any] | None = None) -> str:
        """A V4 signed URL, or a public one when the ACL is publicRead or
        GS_QUERYSTRING_AUTH is off. Signing is local (no request) unless GS_IAM_SIGN_BLOB."""
        key = self._key(name)
        acl = self.get_object_parameters(relative_to_root(self.location, key)).get("acl", self.default_acl)
        if acl in PUBLIC_ACLS or not self.querystring_auth:
            quoted = quote(key, safe="/~")
            if self.custom_endpoint:
                return f"{self.custom_endpoint}/{quoted}"
            return f"{self.emulator_host or PUBLIC_ENDPOINT}/{self.bucket_id}/{quoted}"
        return self._signed_url(name, key, {"expiration": self.expiration, **(parameters or {})})

    def _signed_url(self, name: str, key: str, parameters: dict[str, Any]) -> str:
        """A V4 signed URL for ``key``; ``parameters`` go to ``Blob.generate_signed_url``."""
        kwargs: dict[str, Any] = {"version": "v4"}
        if self.custom_endpoint:
            kwargs["bucket_bound_hostname"] = self.custom_endpoint
        elif self.emulator_host:
            kwargs["api_access_endpoint"] = self.emulator_host
        if self.iam_sign_blob:
            with translated(self, name):
                kwargs.update(self._iam_sign_params())
        elif self.credentials is not None:
            kwargs["credentials"] = self.credentials
        kwargs.update(parameters)
        blob = self.client.bucket(self.bucket_id).blob(key)
        with translated(self, name):
            try:
                return blob.generate_signed_url(**kwargs)
            except AttributeError as exc:  # the SDK's "you need a private key to sign credentials"
                raise ImproperlyConfigured(
                    "these credentials cannot sign URLs (signed url()s and direct_upload() need it): give a "
                    "service-account key in GS_CREDENTIALS, set GS_IAM_SIGN_BLOB (with GS_SA_EMAIL), or "
                    "serve public URLs (GS_DEFAULT_ACL = 'publicRead' or GS_QUERYSTRING_AUTH = False)"
                ) from exc

    def _direct_upload(self, request: UploadRequest) -> DirectUpload:
        """A V4 signed PUT URL: the content type and the size range are signed headers, so GCS
        refuses an upload that changes them (``x-goog-content-length-range``)."""
        self.bucket  # noqa: B018 (created first when GS_AUTO_CREATE_BUCKET is on)
        own = object_params.for_upload(self.get_object_parameters(request.name))
        params = {"acl": self.default_acl, **own}
        headers = upload_headers(params, request.content_type or "application/octet-stream", request.max_size)
        content_type = headers["Content-Type"]
        url = self._signed_url(request.name, request.key, {
            "method": "PUT", "expiration": request.expires_at, "content_type": content_type,
            "headers": {k: v for k, v in headers.items() if k != "Content-Type"}})
        return DirectUpload(request.name, url, "PUT", content_type, request.expires_at, request.max_size,
                            headers=headers)

    def _iam_sign_params(self) -> dict[str, str]:
        """Sign through the IAM signBlob API with the caller's token (no key file)."""
        return iam_sign_params(self.credentials or self.client._credentials, self.sa_email)


def _info_from_headers(headers: Any) -> ObjectInfo:
    size = headers.get("Content-Length")
    content_range = headers.get("Content-Range", "")
    if "/" in content_range and not content_range.endswith("/*"):
        size = content_range.rsplit("/", 1)[1]
    encoding = headers.get("X-Goog-Stored-Content-Encoding") or headers.get("Content-Encoding")
    modified = headers.get("Last-Modified")
    return ObjectInfo(
        size=int(size) if size is not None else None,
        modified=parsedate_to_datetime(modified) if modified else None,
        content_type=headers.get("Content-Type"),
        content_encoding=None if encoding in (None, "", "identity") else encoding,
        etag=headers.get("ETag"),
        version=headers.get("X-Goog-Generation"),
        checksums=_hashes(headers.get("X-Goog-Hash", "")),
        compressed=has_compressed_mark(metadata_headers(headers, "x-goog-meta-")),
    )


def _hashes(value: str) -> dict[str, bytes]:
    """``X-Goog-Hash: crc32c=...,md5=...``: the stored object's digests (whole, even for a range)."""
    found = {}
    for item in value.split(","):
        name, _, encoded = item.strip().partition("=")
        if name in ("crc32c", "md5") and (digest := decode(encoded)):
            found[name] = digest
    return found


__all__ = ["CONTENT_ENCODING", "CONTENT_TYPE", "GoogleCloudFile", "GoogleCloudStorage"]
