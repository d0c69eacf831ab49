"""The signed headers of a direct upload (a V4 signed PUT): the blob properties of
``get_object_parameters()`` as XML API request headers, the content type and the size range.

GCS checks every signed header against the request, so a client that changes or drops
one is refused; ``x-goog-content-length-range`` makes GCS refuse a body outside the range.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ImproperlyConfigured

#: Blob properties (GS_OBJECT_PARAMETERS keys) a signed PUT carries, and their header.
HEADERS = {
    "cache_control": "Cache-Control",
    "content_disposition": "Content-Disposition",
    "content_encoding": "Content-Encoding",
    "content_language": "Content-Language",
    "storage_class": "x-goog-storage-class",
    "acl": "x-goog-acl",
}


def xml_acl(name: str) -> str:
    """A JSON API predefined ACL (``publicRead``) as the XML API's canned ACL (``public-read``)."""
    return re.sub(r"(?<!^)([A-Z])", r"-\1", name).lower()


def upload_headers(params: dict[str, Any], content_type: str, max_size: int | None) -> dict[str, str]:
    """The headers of a signed PUT for these blob properties (``acl`` included)."""
    headers = {"Content-Type": str(params.pop("content_type", None) or content_type)}
    for prop, value in params.items():
        if value is None:
            continue
        if prop == "metadata":
            headers.update({f"x-goog-meta-{key}": str(item) for key, item in value.items()})
        elif prop in HEADERS:
            headers[HEADERS[prop]] = xml_acl(value) if prop == "acl" else str(value)
        else:
            raise ImproperlyConfigured(
                f"GS_OBJECT_PARAMETERS / get_object_parameters(): {prop!r} cannot be set by a direct upload "
                f"(a signed PUT carries only {', '.join(['content_type', 'metadata', *HEADERS])})")
    if max_size is not None:
        headers["x-goog-content-length-range"] = f"0,{max_size}"
    return headers
