"""Streaming gzip for uploads: compresses part by part, never the whole file.

An object a storage compressed itself carries a mark in its metadata
(:data:`COMPRESSED_MARK`); the shared reader decodes those, and any other object
stored with ``Content-Encoding: gzip`` only when the storage's ``decode_gzip``
option asks for it. Other gzip-encoded objects (``x.gz`` uploaded as such) are read
as stored, so the bytes read agree with ``size()``.
"""

from __future__ import annotations

import zlib
from typing import Any, Mapping

from .files import Upload

#: The metadata entry (key, value) marking an object this storage gzip-compressed on upload.
COMPRESSED_MARK = ("storages-compressed", "gzip")


def with_compressed_mark(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """A copy of an object's user ``metadata`` with :data:`COMPRESSED_MARK` added."""
    return {**(metadata or {}), COMPRESSED_MARK[0]: COMPRESSED_MARK[1]}


def has_compressed_mark(metadata: Any) -> bool:
    """Whether user ``metadata`` (any key case, as services return it) has the mark."""
    if not isinstance(metadata, Mapping):
        return False
    return any(str(k).lower() == COMPRESSED_MARK[0] and v == COMPRESSED_MARK[1] for k, v in metadata.items())


def metadata_headers(headers: Mapping[str, str], prefix: str) -> dict[str, str]:
    """User metadata sent as HTTP headers (``x-goog-meta-<key>``): key (lower case) -> value."""
    return {k.lower()[len(prefix):]: v for k, v in headers.items() if k.lower().startswith(prefix)}

DEFAULT_GZIP_CONTENT_TYPES = (
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "image/svg+xml",
)


def should_gzip(content_type: str | None, content_types: tuple[str, ...] | list[str]) -> bool:
    """Whether a file of ``content_type`` is compressed (exact match, parameters ignored)."""
    if not content_type:
        return False
    return content_type.split(";")[0].strip().lower() in {t.lower() for t in content_types}


class GzipUpload(Upload):
    """Wraps an Upload: bytes are gzip-compressed on the way to the inner upload.

    The inner upload still receives parts of at least ``part_size`` bytes
    (compressed), so memory stays bounded by one part.
    """

    def __init__(self, inner: Upload, part_size: int, level: int = 6) -> None:
        self._inner = inner
        self._part_size = part_size
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self._buffer = bytearray()

    def _emit_full_parts(self) -> None:
        while len(self._buffer) >= self._part_size:
            part = bytes(self._buffer[: self._part_size])
            del self._buffer[: self._part_size]
            self._inner.write_part(part)

    def write_part(self, data: bytes) -> None:
        self._buffer += self._compressor.compress(data)
        self._emit_full_parts()

    def commit(self, tail: bytes) -> None:
        self._buffer += self._compressor.compress(tail)
        self._buffer += self._compressor.flush()
        self._emit_full_parts()
        self._inner.commit(bytes(self._buffer))

    def abort(self) -> None:
        self._buffer = bytearray()
        self._inner.abort()
