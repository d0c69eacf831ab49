"""moto's whole-object (``FULL_OBJECT``) CRC32 of a multipart upload, without copying the object.

moto (5.1) computes a multipart upload's ``FULL_OBJECT`` checksum by appending every part
to a second buffer of the whole object, copying that buffer once more and hashing it at
``CompleteMultipartUpload``: two extra copies of the object and a pass over it while the
client waits. S3 keeps a running value. On this machine that made the emulator spend about
0.25 s more CPU on a 100 MiB save that asks for a whole-object CRC32 (as ours does, so that
reads can check it) than on one that does not, which the benchmark then showed as our save
being slower than the raw SDK's (``bench/compare.py``, S3 save rows).

:func:`install` swaps moto's builder for :class:`RunningChecksumBuilder`, which keeps a
running CRC32 over the parts as they are added, in order, and gives the same value. Other
algorithms and ``COMPOSITE`` checksums go through moto's own code. A moto without the
builder is left as it is.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

#: Algorithms whose whole-object value is kept running here (the rest are moto's).
RUNNING = {"CRC32": zlib.crc32}


def builder_class() -> type | None:
    """moto's ``MultipartChecksumBuilder``, or None where this moto has none."""
    try:
        from moto.s3 import models
    except ImportError:
        return None
    found = getattr(models, "MultipartChecksumBuilder", None)
    usable = isinstance(found, type) and hasattr(found, "addPart") and hasattr(found, "build")
    return found if usable else None


def running_builder(base: type) -> type:
    """A subclass of moto's builder keeping ``FULL_OBJECT`` CRC32s running."""

    class RunningChecksumBuilder(base):  # type: ignore[misc, valid-type]
        """``FULL_OBJECT`` CRC32 over the parts in order, without holding them."""

        def __init__(self, checksum_algorithm: str | None, checksum_type: str | None) -> None:
            super().__init__(checksum_algorithm, checksum_type)
            full_object = self.checksum_type == "FULL_OBJECT"
            self._update = RUNNING.get(self.checksum_algorithm) if full_object else None
            self._value = 0

        def addPart(self, part: bytes) -> None:  # noqa: N802 (moto's name)
            if self._update is None:
                super().addPart(part)
                return
            self._value = self._update(part, self._value)
            self.part_count += 1

        def build(self) -> Any:
            if self._update is None:
                return super().build()
            return self.checksum_type, base64.b64encode(self._value.to_bytes(4, "big")).decode(), 1

    return RunningChecksumBuilder


def install() -> bool:
    """Use :class:`RunningChecksumBuilder` in this process's moto; True if it is in use."""
    base = builder_class()
    if base is None:
        return False
    if getattr(base, "_running_checksums", False):
        return True
    from moto.s3 import models

    models.MultipartChecksumBuilder = running_builder(base)
    models.MultipartChecksumBuilder._running_checksums = True
    return True
