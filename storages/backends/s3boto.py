"""``storages.backends.s3boto.S3BotoStorage``: the boto-era settings on the boto3 engine.

boto itself is not used (it is unmaintained and does not run on current
Python). Its settings keep their meaning: ``AWS_HEADERS`` become object
parameters, ``AWS_S3_HOST``/``AWS_S3_PORT`` the endpoint, ``S3_USE_SIGV4`` the
signature version, ``AWS_S3_CALLING_FORMAT`` the addressing style,
``AWS_S3_SECURE_URLS`` the URL scheme and ``AWS_REDUCED_REDUNDANCY`` the storage
class. ``AWS_S3_ENCRYPTION`` and ``AWS_AUTO_CREATE_BUCKET`` work as on S3Storage.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

from storages.core import Option, to_bool, to_int

from .s3 import S3Storage

DEFAULT_HOST = "s3.amazonaws.com"

#: AWS_HEADERS names (lower case) -> boto3 put_object parameters.
HEADER_PARAMETERS = {
    "cache-control": "CacheControl",
    "content-type": "ContentType",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "expires": "Expires",
    "x-amz-acl": "ACL",
    "x-amz-storage-class": "StorageClass",
    "x-amz-server-side-encryption": "ServerSideEncryption",
    "x-amz-website-redirect-location": "WebsiteRedirectLocation",
}

#: boto calling formats -> botocore addressing styles.
CALLING_FORMATS = {
    "SubdomainCallingFormat": "virtual",
    "VHostCallingFormat": "virtual",
    "OrdinaryCallingFormat": "path",
    "ProtocolIndependentOrdinaryCallingFormat": "path",
}


def headers_to_parameters(headers: dict[str, str]) -> dict[str, Any]:
    """Translate ``AWS_HEADERS`` into ``put_object`` parameters; unknown headers are an error."""
    params: dict[str, Any] = {}
    metadata: dict[str, str] = {}
    for header, value in (headers or {}).items():
        lowered = header.lower()
        if lowered.startswith("x-amz-meta-"):
            metadata[lowered[len("x-amz-meta-"):]] = value
        elif lowered in HEADER_PARAMETERS:
            params[HEADER_PARAMETERS[lowered]] = value
        else:
            raise ImproperlyConfigured(
                f"AWS_HEADERS: {header!r} has no S3 object parameter; use one of "
                f"{', '.join(sorted(HEADER_PARAMETERS))} or x-amz-meta-*")
    if metadata:
        params["Metadata"] = metadata
    return params


def calling_format_style(value: Any) -> str | None:
    """The addressing style for an AWS_S3_CALLING_FORMAT given as a name, dotted path or object."""
    if value is None:
        return None
    name = value if isinstance(value, str) else type(value).__name__
    name = name.rsplit(".", 1)[-1].rstrip("()")
    if name not in CALLING_FORMATS:
        raise ImproperlyConfigured(
            f"AWS_S3_CALLING_FORMAT: unknown calling format {name!r}; "
            f"use one of {', '.join(CALLING_FORMATS)}")
    return CALLING_FORMATS[name]


class S3BotoStorage(S3Storage):
    """S3 storage configured with boto-era settings (see the module docstring)."""

    options = S3Storage.options + (
        Option("headers", ("AWS_HEADERS",), dict),
        Option("host", ("AWS_S3_HOST",), DEFAULT_HOST),
        Option("port", ("AWS_S3_PORT",), None, convert=to_int),
        Option("use_sigv4", ("S3_USE_SIGV4",), False, convert=to_bool),
        Option("calling_format", ("AWS_S3_CALLING_FORMAT",), None),
        Option("secure_urls", ("AWS_S3_SECURE_URLS",), True, convert=to_bool),
        Option("reduced_redundancy", ("AWS_REDUCED_REDUNDANCY",), False, convert=to_bool),
    )

    def _options_changed(self) -> None:
        super()._options_changed()
        self._header_parameters = headers_to_parameters(self.headers)
        self._calling_style = calling_format_style(self.calling_format)
        if not self.secure_urls:
            self.url_protocol = "http:"

    def _effective_endpoint(self) -> str | None:
        if self.endpoint_url:
            return self.endpoint_url
        if (self.host or DEFAULT_HOST) == DEFAULT_HOST and not self.port:
            return None
        scheme = "https" if self.use_ssl else "http"
        port = f":{self.port}" if self.port else ""
        return f"{scheme}://{self.host or DEFAULT_HOST}{port}"

    def _signature_version(self) -> str | None:
        return self.signature_version or ("s3v4" if self.use_sigv4 else None)

    def _addressing_style(self) -> str | None:
        return self.addressing_style or self._calling_style

    def url(self, name: str, parameters: dict[str, Any] | None = None, expire: int | None = None,
            http_method: str | None = None) -> str:
        """As S3Storage.url(); AWS_S3_SECURE_URLS = False gives http URLs (boto's ``force_http``)."""
        url = super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        if not self.secure_urls and url.startswith("https://"):
            url = "http://" + url[len("https://"):]  # the scheme is not part of the signature
        return url

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        params = {**self._header_parameters, **super().get_object_parameters(name)}
        if self.reduced_redundancy:
            params.setdefault("StorageClass", "REDUCED_REDUNDANCY")
        return params
