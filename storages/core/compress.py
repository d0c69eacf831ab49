"""Streaming gzip for uploads: compresses part by part, never the whole file.

Reads need nothing here: the shared reader decodes objects stored with
``Content-Encoding: gzip`` when the backend sets ``decode_gzip``.
"""

from __future__ import annotations

import zlib

from .files import Upload

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
