"""django-storages 1.14's ``storages.compress``: gzip helpers that custom storages mix in.

The backends of this package compress uploads with ``storages.core.compress`` (part by
part, while the file streams); these are upstream's pull-style helpers, kept for code
that uses them: :class:`GzipCompressionWrapper` compresses a readable file as it is
read, :class:`CompressStorageMixin` gives a storage ``_compress_content()``, and
:class:`CompressedFileMixin` gives a file ``_decompress_file()``.
"""

from __future__ import annotations

import io
import zlib
from gzip import GzipFile
from typing import Any

from storages.utils import to_bytes

__all__ = ["CompressStorageMixin", "CompressedFileMixin", "GzipCompressionWrapper"]


class GzipCompressionWrapper(io.RawIOBase):
    """A readable stream of the gzip-compressed bytes of ``raw``, compressed as it is read
    (memory: about one read's worth)."""

    def __init__(self, raw: Any, level: int = zlib.Z_BEST_COMPRESSION) -> None:
        super().__init__()
        self.raw = raw
        self.compress: Any = zlib.compressobj(level=level, wbits=31)
        self.leftover = bytearray()

    @staticmethod
    def readable() -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        size = len(buf)
        while len(self.leftover) < size and self.compress is not None:
            chunk = to_bytes(self.raw.read(size))
            if not chunk:
                self.leftover += self.compress.flush(zlib.Z_FINISH)
                self.compress = None
                break
            self.leftover += self.compress.compress(chunk)
        output = self.leftover[:size]
        buf[: len(output)] = output
        del self.leftover[: len(output)]
        return len(output)


class CompressStorageMixin:
    """Gives a storage upstream's ``_compress_content(content)``."""

    def _compress_content(self, content: Any) -> GzipCompressionWrapper:
        return GzipCompressionWrapper(content)


class CompressedFileMixin:
    """Gives a file upstream's ``_decompress_file(mode, file, mtime=0.0)``."""

    def _decompress_file(self, mode: str, file: Any, mtime: float = 0.0) -> GzipFile:
        return GzipFile(mode=mode, fileobj=file, mtime=mtime)
