"""Amazon S3 storage on boto3: ``S3Storage``, ``S3StaticStorage``, ``S3ManifestStaticStorage``.

This module holds the storage's options and hooks only; the mechanisms are beside it:
``.upload`` (multipart), ``.params`` (object parameters for writes and reads),
``.checksums``, ``.presign`` (custom-domain URLs, direct uploads), ``.cloudfront``,
``.resources`` (upstream 1.14's ``bucket``/``connection``). It is longer than before the
consolidation (376 lines) because the options those features added are declared here.
"""

from __future__ import annotations

import datetime
import os
import threading
import warnings
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.exceptions import ImproperlyConfigured

from storages.core import BaseStorage, ObjectInfo, Option, Upload, split_listing, to_bool, to_int
from storages.core.compress import (
    DEFAULT_GZIP_CONTENT_TYPES,
    GzipUpload,
    has_compressed_mark,
    should_gzip,
    with_compressed_mark,
)
from storages.core.direct import DirectUpload, UploadRequest
from storages.core.errors import ChecksumMismatch, ServiceUnavailable, StorageError, translated
from storages.core.keyed import KeyedObjectParameters
from storages.core.names import relative_to_root

from . import params as object_params
from . import presign
from .checksums import digests, one_check
from .cloudfront import signer_from_key
from .resources import S3Boto3StorageFile, S3File, S3Resources
from .upload import S3Upload, transfer_settings

DEFAULT_CONCURRENCY = 3  # bench/bench_s3.py: the knee of throughput vs peak memory (~40 MB)
NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}
DENIED_CODES = {"AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"}


class S3Storage(KeyedObjectParameters, S3Resources, BaseStorage):
    """Files in an S3 bucket (or any S3-compatible service via ``AWS_S3_ENDPOINT_URL``)."""

    options = (
        Option("access_key", ("AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"),
               env=("AWS_S3_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"), secret=True),
        Option("secret_key", ("AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"),
               env=("AWS_S3_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"), secret=True),
        Option("security_token", ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"),
               env=("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"), secret=True, aliases=("session_token",)),
        Option("session_profile", ("AWS_S3_SESSION_PROFILE",), env=("AWS_S3_SESSION_PROFILE",)),
        Option("bucket_name", ("AWS_STORAGE_BUCKET_NAME",), env=("AWS_STORAGE_BUCKET_NAME",)),
        Option("auto_create_bucket", ("AWS_AUTO_CREATE_BUCKET",), False, convert=to_bool),
        Option("location", ("AWS_LOCATION",), ""),
        Option("file_overwrite", ("AWS_S3_FILE_OVERWRITE",), True, convert=to_bool),
        Option("object_parameters", ("AWS_S3_OBJECT_PARAMETERS",), dict),
        Option("default_acl", ("AWS_DEFAULT_ACL",), None),
        Option("encryption", ("AWS_S3_ENCRYPTION",), False, convert=to_bool),
        Option("querystring_auth", ("AWS_QUERYSTRING_AUTH",), True, convert=to_bool),
        Option("querystring_expire", ("AWS_QUERYSTRING_EXPIRE",), 3600, convert=int),
        Option("gzip", ("AWS_IS_GZIPPED",), False, convert=to_bool),
        Option("gzip_content_types", ("GZIP_CONTENT_TYPES",), DEFAULT_GZIP_CONTENT_TYPES, convert=tuple),
        Option("decode_gzip", ("AWS_S3_DECODE_GZIP",), False, convert=to_bool),
        Option("region_name", ("AWS_S3_REGION_NAME",), None),
        Option("use_ssl", ("AWS_S3_USE_SSL",), True, convert=to_bool),
        Option("verify", ("AWS_S3_VERIFY",), None),
        Option("endpoint_url", ("AWS_S3_ENDPOINT_URL",), None, env=("AWS_S3_ENDPOINT_URL",)),
        Option("signature_version", ("AWS_S3_SIGNATURE_VERSION",), None),
        Option("addressing_style", ("AWS_S3_ADDRESSING_STYLE",), None),
        Option("custom_domain", ("AWS_S3_CUSTOM_DOMAIN",), None),
        Option("url_protocol", ("AWS_S3_URL_PROTOCOL",), "https:"),
        Option("custom_domain_presign", ("AWS_S3_CUSTOM_DOMAIN_PRESIGN",), False, convert=to_bool),
        Option("proxies", ("AWS_S3_PROXIES",), None),
        Option("transfer_config", ("AWS_S3_TRANSFER_CONFIG",), None),
        Option("use_threads", ("AWS_S3_USE_THREADS",), True, convert=to_bool, deprecated=(
            "use AWS_S3_TRANSFER_CONFIG = TransferConfig(use_threads=False) (or max_concurrency) instead")),
        Option("file_buffer_size", ("AWS_S3_FILE_BUFFER_SIZE",), None, convert=to_int),
        Option("file_name_charset", ("AWS_S3_FILE_NAME_CHARSET",), "utf-8"),
        Option("client_config", ("AWS_S3_CLIENT_CONFIG",), None),
        Option("max_memory_size", ("AWS_S3_MAX_MEMORY_SIZE",), 0, convert=to_int, deprecated=(
            "it has no effect: files stream to S3 in parts while you write, so memory is bounded by "
            "AWS_S3_TRANSFER_CONFIG (multipart_chunksize x max_concurrency), never by the file size")),
        Option("default_content_type", ("AWS_S3_DEFAULT_CONTENT_TYPE",), "application/octet-stream"),
        Option("cloudfront_key", ("AWS_CLOUDFRONT_KEY",), None, secret=True),
        Option("cloudfront_key_id", ("AWS_CLOUDFRONT_KEY_ID",), None),
        Option("cloudfront_signer", (), None, secret=True),
    )
    #: Upstream's deprecated class attribute: a botocore ``Config`` used as AWS_S3_CLIENT_CONFIG.
    config: Any = None
    file_class = S3File
    key_rules = object_params  # customer keys in object_parameters: secrets
    unsupported = {
        "created_time": "S3 records only a last-modified time per object",
        "accessed_time": "S3 does not record access times",
    }
    sdk_modules, sdk_extra = ("boto3",), "s3"
    container_option, auto_create_option = "bucket_name", "auto_create_bucket"

    def _options_changed(self) -> None:
        super()._options_changed()
        self.location = (self.location or "").strip("/")
        #: Part size, multipart threshold (one PUT below it) and parts uploaded at once (memory
        #: holds at most this many parts plus one), from AWS_S3_TRANSFER_CONFIG.
        self.part_size, self.multipart_threshold, self.max_concurrency = transfer_settings(
            self.transfer_config, self.use_threads, BaseStorage.part_size, DEFAULT_CONCURRENCY)
        self._bucket_checked = False
        if type(self).config is not None:
            warnings.warn("The 'config' class attribute is deprecated: set AWS_S3_CLIENT_CONFIG (the "
                          "client_config option) to the botocore Config instead",
                          DeprecationWarning, stacklevel=4)
            self.client_config = type(self).config
        self._signer: Any = None
        if self.custom_domain and "/" in self.custom_domain.rstrip("/"):
            raise ImproperlyConfigured("AWS_S3_CUSTOM_DOMAIN is a host name, without a scheme or path")
        if self.custom_domain_presign and (self.cloudfront_key or self.cloudfront_signer is not None):
            raise ImproperlyConfigured("AWS_S3_CUSTOM_DOMAIN_PRESIGN and AWS_CLOUDFRONT_KEY (or "
                                       "cloudfront_signer) both sign custom-domain URLs: set one of them")
        if self.cloudfront_signer is None and bool(self.cloudfront_key) != bool(self.cloudfront_key_id):
            raise ImproperlyConfigured("Set both AWS_CLOUDFRONT_KEY and AWS_CLOUDFRONT_KEY_ID, or neither")

    # -- client ----------------------------------------------------------------
    def _effective_endpoint(self) -> str | None:
        return self.endpoint_url

    def endpoint(self) -> str:
        return self._effective_endpoint() or f"S3 ({self.region_name or 'default region'})"

    def _botocore_config(self, *, unsigned: bool = False) -> Any:
        from botocore import UNSIGNED
        from botocore.config import Config

        # Only options that are set override AWS_S3_CLIENT_CONFIG: Config.merge()
        # treats an explicit None as a value and would wipe the user's own.
        base = Config(max_pool_connections=32)
        if self.client_config is not None:
            base = base.merge(self.client_config)
        overrides: dict[str, Any] = {}
        if self._addressing_style():
            overrides["s3"] = {**(base.s3 or {}), "addressing_style": self._addressing_style()}
        signature_version = UNSIGNED if unsigned else self._signature_version()
        if signature_version is not None:
            overrides["signature_version"] = signature_version
        if self.proxies is not None:
            overrides["proxies"] = self.proxies
        if not self.checksums:  # no integrity checks sent or verified (storages.core.checksums)
            overrides.update(request_checksum_calculation="when_required",
                             response_checksum_validation="when_required")
        return base.merge(Config(**overrides)) if overrides else base

    def _addressing_style(self) -> str | None:
        return self.addressing_style

    def _signature_version(self) -> str | None:
        return self.signature_version

    def _make_client(self, *, unsigned: bool = False, endpoint_url: str | None = None,
                     config: Any = None) -> Any:
        """A new S3 client; ``endpoint_url``/``config`` replace the storage's (``presign`` uses them)."""
        session, arguments = self._session_and_arguments(unsigned=unsigned)
        if endpoint_url:
            arguments["endpoint_url"] = endpoint_url
        if config is not None:
            arguments["config"] = config
        return session.client("s3", **arguments)

    def _session_and_arguments(self, *, unsigned: bool = False) -> tuple[Any, dict[str, Any]]:
        """This thread's boto3 Session and the arguments of its S3 clients (and resources)."""
        boto3 = self._require("boto3")
        from botocore.exceptions import ProfileNotFound

        try:
            session = _thread_session(boto3, self.session_profile or None)
        except ProfileNotFound as exc:
            raise ImproperlyConfigured(
                f"AWS_S3_SESSION_PROFILE {self.session_profile!r} is not in the AWS config files "
                "(AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE)") from exc
        credentials = {} if unsigned else {
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
            "aws_session_token": self.security_token,
        }
        return session, dict(
            region_name=self.region_name, use_ssl=self.use_ssl, verify=self.verify,
            endpoint_url=self._effective_endpoint(), config=self._botocore_config(unsigned=unsigned),
            **credentials,
        )

    def _client(self) -> Any:
        return self._per_thread("client", self._make_client)

    def _ensure_bucket(self) -> None:
        """Create the bucket on first write when AWS_AUTO_CREATE_BUCKET is on."""
        if not self.auto_create_bucket or self._bucket_checked:
            return
        from botocore.exceptions import ClientError

        client = self._client()
        try:
            client.head_bucket(Bucket=self.container_name())
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in NOT_FOUND_CODES | {"NoSuchBucket"}:
                raise
            kwargs: dict[str, Any] = {"Bucket": self.container_name()}
            if self.region_name and self.region_name != "us-east-1":
                kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region_name}
            if self.default_acl:
                kwargs["ACL"] = self.default_acl
            client.create_bucket(**kwargs)
        self._bucket_checked = True

    # -- errors ----------------------------------------------------------------
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        botocore = self._require("botocore.exceptions")
        if isinstance(exc, botocore.ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in NOT_FOUND_CODES:
                return FileNotFoundError(f"{name!r} does not exist in S3 bucket {self.bucket_name!r}")
            if code == "NoSuchBucket":
                return self.missing_container()
            if code in {"BadDigest", "XAmzContentChecksumMismatch", "InvalidDigest"}:
                return ChecksumMismatch(f"S3 endpoint {self.endpoint()} refused {name!r}: its bytes were "
                                        f"damaged in transit ({code}); nothing was stored")
            if code in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
                return FileExistsError(f"{name!r} already exists in S3 bucket {self.bucket_name!r}")
            if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
                return ServiceUnavailable(f"S3 endpoint {self.endpoint()} failed: {exc}")
            if object_params.refused_read(code, exc):
                return StorageError(f"S3 refused to read {name!r} in bucket {self.bucket_name!r}: "
                                    f"{self.redact(str(exc))}. {object_params.READ_HINT}")
            if code in DENIED_CODES:
                return PermissionError(
                    f"S3 refused access to {name!r} in bucket {self.bucket_name!r} ({code}); check "
                    "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket policy")
            return super().translate_error(exc, name)
        if isinstance(exc, botocore.NoCredentialsError):
            return ImproperlyConfigured(
                "No AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or AWS_S3_SESSION_PROFILE, or the SDK's environment)")
        if isinstance(exc, (botocore.EndpointConnectionError, botocore.ConnectTimeoutError,
                            botocore.ReadTimeoutError, botocore.ConnectionClosedError)):
            return ServiceUnavailable(f"S3 endpoint {self.endpoint()} is unreachable: {exc}")
        if isinstance(exc, botocore.FlexibleChecksumError):
            return ChecksumMismatch(f"S3 endpoint {self.endpoint()}: the bytes of {name!r} received do not "
                                    f"match the object's checksum; they were damaged in transit: {exc}")
        if isinstance(exc, (botocore.ResponseStreamingError, botocore.IncompleteReadError)):
            return ServiceUnavailable(
                f"S3 endpoint {self.endpoint()} broke off the transfer of {name!r} (bucket "
                f"{self.bucket_name!r}): {exc}")
        return super().translate_error(exc, name)

    # -- hooks -----------------------------------------------------------------
    def _read_parameters(self, key: str) -> dict[str, Any]:  # SSE-C, VersionId, ...: see .params
        return object_params.read_parameters(self.get_object_parameters(relative_to_root(self.location, key)))

    def _stat(self, key: str) -> ObjectInfo:
        head = self._client().head_object(Bucket=self.container_name(), Key=key, **self._read_parameters(key))
        return _info(head, head.get("ContentLength"))

    def _open_stream(self, key: str, start: int) -> tuple[Any, ObjectInfo]:
        kwargs = {"Range": f"bytes={start}-"} if start else {}
        kwargs.update(self._read_parameters(key))
        response = self._client().get_object(Bucket=self.container_name(), Key=key, **kwargs)
        size = response.get("ContentLength")
        content_range = response.get("ContentRange")
        if content_range and "/" in content_range:
            size = int(content_range.rsplit("/", 1)[1])
        info = _info(response, size)
        return one_check(response["Body"], info), info

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        self._ensure_bucket()
        name = key[len(self.location) + 1:] if self.location else key
        params, compress = self._upload_parameters(name, content_type)
        upload: Upload = S3Upload(self._client(), self.container_name(), key, params, create_only,
                                   max_in_flight=self.max_concurrency, threshold=self.multipart_threshold,
                                   part_params=object_params.part_parameters(params))
        return GzipUpload(upload, self.part_size) if compress else upload

    def _object_parameters(self, name: str, content_type: str | None) -> dict[str, Any]:
        """The ``put_object`` parameters of a new object: content type, ACL, encryption."""
        params = object_params.upload_parameters(self.get_object_parameters(name))
        params.setdefault("ContentType", content_type or self.default_content_type)
        if self.default_acl and "ACL" not in params:
            params["ACL"] = self.default_acl
        if self.encryption and "ServerSideEncryption" not in params:
            params["ServerSideEncryption"] = "AES256"
        return params

    def _upload_parameters(self, name: str, content_type: str | None) -> tuple[dict[str, Any], bool]:
        """The object parameters for an upload, and whether its bytes are gzipped on the way."""
        params = self._object_parameters(name, content_type)
        compress = (self.gzip and "ContentEncoding" not in params
                    and should_gzip(params["ContentType"], self.gzip_content_types))
        if compress:
            params["ContentEncoding"] = "gzip"
            params["Metadata"] = with_compressed_mark(params.get("Metadata"))
        return params, compress

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Parameters of the object ``name`` (relative to AWS_LOCATION); override to vary them
        per file. Uploads and reads (HEAD, GET) take what each can (see ``.params``)."""
        return dict(self.object_parameters or {})

    def _delete(self, key: str) -> bool:
        if not self._is_file(key):  # S3 answers a DELETE the same whether or not the key existed
            return False
        self._client().delete_object(Bucket=self.container_name(), Key=key)
        return True

    def _is_dir(self, prefix: str) -> bool:
        listed = self._client().list_objects_v2(Bucket=self.container_name(), Prefix=prefix, MaxKeys=1)
        return bool(listed.get("Contents"))

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        paginator = self._client().get_paginator("list_objects_v2")
        keys: list[str] = []
        dirs: list[str] = []
        for page in paginator.paginate(Bucket=self.container_name(), Delimiter="/", Prefix=prefix):
            dirs.extend(p["Prefix"] for p in page.get("CommonPrefixes", ()))
            keys.extend(o["Key"] for o in page.get("Contents", ()))
        return split_listing(prefix, keys, dirs)

    # -- urls ------------------------------------------------------------------
    def url(self, name: str, parameters: dict[str, Any] | None = None, expire: int | None = None,
            http_method: str | None = None) -> str:
        """A URL for ``name``: presigned unless AWS_QUERYSTRING_AUTH is off; no request is made."""
        key = self._key(name)
        expire = self.querystring_expire if expire is None else expire
        if self.custom_domain and self.querystring_auth and self.custom_domain_presign:
            with translated(self, name):
                return presign.custom_domain_url(self, key, parameters, expire, http_method)
        if self.custom_domain:
            url = f"{self.url_protocol}//{self.custom_domain.rstrip('/')}/{quote(key)}"
            if parameters:  # as upstream: passed through in the query string
                url += f"?{urlencode(parameters)}"
            signer = self._cloudfront_signer() if self.querystring_auth else None
            if signer is not None:
                expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expire)
                return signer.generate_presigned_url(url, date_less_than=expires)
            return url
        params = {"Bucket": self.container_name(), "Key": key, **(parameters or {})}
        client = self._client() if self.querystring_auth else \
            self._per_thread("unsigned_client", lambda: self._make_client(unsigned=True))
        with translated(self, name):
            return client.generate_presigned_url("get_object", Params=params, ExpiresIn=expire,
                                                 HttpMethod=http_method)

    def _direct_upload(self, request: UploadRequest) -> DirectUpload:
        """A presigned POST (see ``.presign``); the bucket is created first if AWS_AUTO_CREATE_BUCKET."""
        self._ensure_bucket()
        return presign.presigned_post(self, request)

    def get_cloudfront_signer(self, key_id: str, key: Any) -> Any:
        """The ``CloudFrontSigner`` for AWS_CLOUDFRONT_KEY_ID/AWS_CLOUDFRONT_KEY (upstream's hook:
        override it to sign another way; or pass a signer as the ``cloudfront_signer`` option)."""
        return signer_from_key(key_id, key)

    def _cloudfront_signer(self) -> Any:
        """The signer custom-domain URLs are signed with (built on first use), or None."""
        if self.cloudfront_signer is not None:
            return self.cloudfront_signer
        if self._signer is None and self.cloudfront_key:
            self._signer = self.get_cloudfront_signer(self.cloudfront_key_id, self.cloudfront_key)
        return self._signer


_sessions = threading.local()


def _thread_session(boto3: Any, profile: str | None) -> Any:
    """This thread's boto3 Session for ``profile``, shared by every storage in the thread.

    A Session is not thread-safe, but reusing one in its thread lets its loader
    keep the parsed service model: a client then costs a fraction of the time."""
    key = (profile, os.environ.get("AWS_CONFIG_FILE"), os.environ.get("AWS_SHARED_CREDENTIALS_FILE"))
    cache = _sessions.__dict__.setdefault("by_key", {})
    if key not in cache:
        cache[key] = boto3.session.Session(profile_name=profile)
    return cache[key]


def _info(response: dict[str, Any], size: int | None) -> ObjectInfo:
    return ObjectInfo(
        size=size, modified=response.get("LastModified"), content_type=response.get("ContentType"),
        content_encoding=response.get("ContentEncoding"), etag=response.get("ETag"),
        version=response.get("VersionId"), checksums=digests(response),
        compressed=has_compressed_mark(response.get("Metadata")),
    )


class S3StaticStorage(S3Storage):
    """For static files: query-string auth off, so ``url()`` is stable and cacheable."""

    querystring_auth = False


class S3ManifestStaticStorage(ManifestFilesMixin, S3StaticStorage):
    """Static files with hashed names and a manifest (``collectstatic``)."""


__all__ = ["S3Boto3StorageFile", "S3File", "S3ManifestStaticStorage", "S3StaticStorage", "S3Storage"]
