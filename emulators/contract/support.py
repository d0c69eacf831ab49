"""What the conformance tests feed storages (imported, not fixtures)."""

from __future__ import annotations

import io
from typing import Any


class FailingSource(io.RawIOBase):
    """A source that yields ``limit`` bytes, then fails with ``OSError("source failed ...")``
    (a disk or network error in the middle of a save)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.sent = limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.sent >= self.limit:
            raise OSError(f"source failed after {self.sent} bytes")
        n = min(len(buffer), self.limit - self.sent)
        buffer[:n] = b"z" * n
        self.sent += n
        return n
