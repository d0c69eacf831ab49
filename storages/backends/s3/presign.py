"""Presigning beyond ``get_object``: URLs through a custom domain, and direct uploads.

* :func:`custom_domain_url`: with ``AWS_S3_CUSTOM_DOMAIN_PRESIGN``, ``url()`` returns an S3
  presigned URL whose host is ``AWS_S3_CUSTOM_DOMAIN``. SigV4 signs the Host header, so the
  URL is signed *for that host* by a client whose endpoint is the custom domain: the
  domain must reach S3 (or an S3-compatible service) with that Host, as a CNAME of a
  bucket, a bucket-bound CDN/custom domain or a reverse proxy does. The domain serves the
  bucket at its root (``/<key>``); with ``AWS_S3_ADDRESSING_STYLE = "path"`` it serves the
  S3 API and the bucket is in the path (``/<bucket>/<key>``).
* :func:`presigned_post`: ``direct_upload()`` as an S3 presigned POST whose policy holds
  the key, the content type, the object parameters and the content-length-range.

This module never imports the storage package back: it is handed the storage.
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured

from storages.core.direct import DirectUpload, UploadRequest

#: ``put_object`` parameters a presigned POST can carry, and their form field.
POST_FIELDS = {
    "ACL": "acl",
    "CacheControl": "Cache-Control",
    "ContentDisposition": "Content-Disposition",
    "ContentEncoding": "Content-Encoding",
    "ContentType": "Content-Type",
    "Expires": "Expires",
    "StorageClass": "x-amz-storage-class",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "SSEKMSEncryptionContext": "x-amz-server-side-encryption-context",
    "BucketKeyEnabled": "x-amz-server-side-encryption-bucket-key-enabled",
    "WebsiteRedirectLocation": "x-amz-website-redirect-location",
    "Tagging": "tagging",
}


# -- url() through the custom domain ------------------------------------------------------
def _bucket_in_path(storage: Any) -> bool:
    return storage._addressing_style() == "path"


def custom_domain_base(storage: Any) -> str:
    """``<protocol>//<custom domain>``, plus ``/<bucket>`` when the domain serves the S3 API."""
    base = f"{storage.url_protocol}//{storage.custom_domain.rstrip('/')}"
    return f"{base}/{storage.container_name()}" if _bucket_in_path(storage) else base


def _strip_bucket(bucket: str) -> Callable[..., None]:
    """A ``before-sign`` handler: the bucket leaves the path (the domain is the bucket's host)."""
    prefix = f"/{bucket}"

    def handler(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.path == prefix or parts.path.startswith(prefix + "/"):
            request.url = urlunsplit(parts._replace(path=parts.path[len(prefix):] or "/"))

    return handler


def _custom_domain_client(storage: Any) -> Any:
    from botocore.config import Config

    config = storage._botocore_config()
    config = config.merge(Config(signature_version="s3v4",  # SigV2 would not sign the host
                                 s3={**(config.s3 or {}), "addressing_style": "path"}))
    scheme = storage.url_protocol or "https:"
    client = storage._make_client(endpoint_url=f"{scheme}//{storage.custom_domain.rstrip('/')}",
                                  config=config)
    if not _bucket_in_path(storage):
        client.meta.events.register_last("before-sign.s3", _strip_bucket(storage.container_name()))
    return client


def custom_domain_url(storage: Any, key: str, parameters: dict[str, Any] | None, expire: int,
                      http_method: str | None) -> str:
    """An S3 presigned URL for ``key`` on the custom domain, signed for that host."""
    client = storage._per_thread("custom_domain_client", lambda: _custom_domain_client(storage))
    url = client.generate_presigned_url("get_object", Params={"Bucket": storage.container_name(), "Key": key,
                                                               **(parameters or {})},
                                        ExpiresIn=expire, HttpMethod=http_method)
    return url if storage.url_protocol else url.split(":", 1)[1]  # protocol-relative


# -- direct uploads --------------------------------------------------------------------------
def post_fields(params: dict[str, Any]) -> dict[str, str]:
    """The form fields of a presigned POST for these ``put_object`` parameters."""
    fields: dict[str, str] = {}
    for param, value in params.items():
        if param == "Metadata":
            fields.update({f"x-amz-meta-{name}": str(item) for name, item in value.items()})
        elif param in POST_FIELDS:
            if hasattr(value, "tzinfo"):
                value = format_datetime(value, usegmt=True)
            elif isinstance(value, bool):
                value = str(value).lower()
            fields[POST_FIELDS[param]] = str(value)
        else:
            raise ImproperlyConfigured(
                f"AWS_S3_OBJECT_PARAMETERS / get_object_parameters(): {param!r} cannot be set by a direct "
                f"upload (an S3 presigned POST carries only {', '.join(['Metadata', *POST_FIELDS])})")
    return fields


def presigned_post(storage: Any, request: UploadRequest) -> DirectUpload:
    """A presigned POST for ``request.key``: the policy fixes the key, the content type and
    every object parameter, and caps the size with a content-length-range."""
    params = storage._object_parameters(request.name, request.content_type)
    fields = post_fields(params)
    conditions: list[Any] = [{name: value} for name, value in fields.items()]
    if request.max_size is not None:
        conditions.append(["content-length-range", 0, request.max_size])
    post = storage._client().generate_presigned_post(
        storage.container_name(), request.key, Fields=fields, Conditions=conditions, ExpiresIn=request.expire)
    url = post["url"]
    if storage.custom_domain and storage.custom_domain_presign:
        url = custom_domain_base(storage) + ("" if _bucket_in_path(storage) else "/")
    return DirectUpload(name=request.name, url=url, method="POST", content_type=params["ContentType"],
                        expires_at=request.expires_at, max_size=request.max_size,
                        fields=dict(post["fields"]))
