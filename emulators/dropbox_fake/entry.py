"""One file or folder of the fake's tree, and its Dropbox metadata JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .wire import timestamp


@dataclass
class Entry:
    kind: str  # "file" or "folder"
    path_display: str
    id: str
    rev: str = ""
    size: int = 0
    blob: str = ""
    content_hash: str = ""
    server_modified: datetime | None = None
    client_modified: datetime | None = None

    @property
    def path_lower(self) -> str:
        return self.path_display.lower()

    @property
    def name(self) -> str:
        return self.path_display.rsplit("/", 1)[-1]

    def metadata(self, tagged: bool = True) -> dict[str, Any]:
        """FileMetadata / FolderMetadata JSON (``.tag`` only where the type is polymorphic)."""
        data: dict[str, Any] = {".tag": self.kind} if tagged else {}
        data.update(name=self.name, path_lower=self.path_lower, path_display=self.path_display, id=self.id)
        if self.kind == "file":
            assert self.server_modified and self.client_modified
            data.update(
                client_modified=timestamp(self.client_modified),
                server_modified=timestamp(self.server_modified),
                rev=self.rev, size=self.size, is_downloadable=True, content_hash=self.content_hash,
            )
        return data


@dataclass
class Link:
    path_lower: str
    rev: str
    expires: float


def parent_of(lower: str) -> str:
    return lower.rsplit("/", 1)[0]
