"""Direct uploads: a client that is not this server (a browser, a mobile app, another
service) uploads one file straight to the service, with a grant the storage signs locally.

``storage.direct_upload(name, ...)`` returns a :class:`DirectUpload`: where to send the
file (``url``), how (``method``: a ``POST`` multipart form or a ``PUT`` of the bytes), the
form ``fields`` or request ``headers`` to send, and when the grant expires. The server
hands ``as_dict()`` to the client as JSON; the client never sees a credential.

The grant writes exactly one name. On backends with the ``direct_upload_limits``
capability the service itself refuses an upload over ``max_size`` bytes or with another
content type than the grant's; elsewhere ``max_size`` raises ``NotImplementedError`` (check
``storage.size(name)`` after the upload instead). Backends that cannot issue grants at all
lack ``direct_uploads`` and raise ``NotImplementedError`` with the reason.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from django.core.files.utils import validate_file_name

from .capabilities import Capability
from .errors import translated

#: How long a grant lasts when ``expire`` is not given (seconds).
DEFAULT_EXPIRE = 3600
#: The longest grant the services sign (S3 SigV4 and GCS V4 allow seven days).
MAX_EXPIRE = 7 * 24 * 3600


@dataclass(frozen=True)
class DirectUpload:
    """How a client uploads one file straight to the service."""

    #: The storage name the upload creates (after ``get_available_name``).
    name: str
    #: Where to send the request.
    url: str
    #: ``"POST"``: a ``multipart/form-data`` form with ``fields`` first and the file last, in
    #: the field ``file_field``. ``"PUT"``: the request body is the file's bytes.
    method: str
    #: The content type the object gets (the client sends it as given).
    content_type: str
    #: When the grant stops working (aware, UTC).
    expires_at: datetime
    #: The largest upload the service accepts, or ``None`` for the service's own limit.
    max_size: int | None = None
    #: POST: the form fields to send, as given, before the file.
    fields: dict[str, str] = field(default_factory=dict)
    #: Headers the request must carry, as given.
    headers: dict[str, str] = field(default_factory=dict)
    #: POST: the name of the form field that carries the file (sent last).
    file_field: str = "file"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``expires_at`` in ISO 8601), for a view to return."""
        return {
            "name": self.name, "url": self.url, "method": self.method, "fields": dict(self.fields),
            "headers": dict(self.headers), "file_field": self.file_field,
            "content_type": self.content_type, "max_size": self.max_size,
            "expires_at": self.expires_at.isoformat().replace("+00:00", "Z"),
        }


@dataclass(frozen=True)
class UploadRequest:
    """What a backend's ``_direct_upload`` hook signs: checked and resolved by :func:`issue`."""

    name: str
    key: str
    content_type: str | None  # None: the backend's default content type
    max_size: int | None
    expire: int  # seconds
    expires_at: datetime


def issue(storage: Any, name: str, *, content_type: str | None = None,
          max_size: int | None = None, expire: int | timedelta | None = None,
          max_length: int | None = None) -> DirectUpload:
    """:meth:`BaseStorage.direct_upload`: check the request, pick the name, let the backend sign."""
    unsupported = storage.unsupported
    if Capability.DIRECT_UPLOADS in unsupported:
        raise NotImplementedError(f"{type(storage).__name__} cannot issue direct uploads: "
                                  f"{unsupported[Capability.DIRECT_UPLOADS]}")
    if max_size is not None:
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0:
            raise ValueError(f"max_size must be a number of bytes (an int >= 0), not {max_size!r}")
        if Capability.DIRECT_UPLOAD_LIMITS in unsupported:
            raise NotImplementedError(
                f"{type(storage).__name__} cannot limit the size of a direct upload: "
                f"{unsupported[Capability.DIRECT_UPLOAD_LIMITS]}. Issue the grant without max_size and "
                "check storage.size(name) once the client is done")
    expire = DEFAULT_EXPIRE if expire is None else expire
    if isinstance(expire, timedelta):
        expire = int(expire.total_seconds())
    if isinstance(expire, bool) or not isinstance(expire, int) or not 0 < expire <= MAX_EXPIRE:
        raise ValueError(f"expire must be a number of seconds (or a timedelta) from 1 to {MAX_EXPIRE} "
                         f"(seven days), not {expire!r}")
    validate_file_name(name, allow_relative_path=True)
    storage._key(name)  # refuse names that escape the root before anything is asked
    name = storage.get_available_name(name, max_length=max_length).replace("\\", "/")
    content_type = content_type or mimetypes.guess_type(name)[0]
    now = datetime.now(timezone.utc).replace(microsecond=0)
    request = UploadRequest(name=name, key=storage._key(name), content_type=content_type,
                            max_size=max_size, expire=expire, expires_at=now + timedelta(seconds=expire))
    with translated(storage, name):
        return storage._direct_upload(request)
