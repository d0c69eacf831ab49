"""files/list_folder and /continue: snapshots paged by opaque cursors, then changes.

A listing takes a snapshot of the folder's entries; each cursor is (snapshot,
offset). Continuing past the last page reports what changed under the folder
since the snapshot (deleted entries tagged ``deleted``), as Dropbox does.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from .entry import Entry, parent_of
from .wire import ApiFailure, BadRequest, lookup_error, union

MAX_SNAPSHOTS = 1000


@dataclass
class Snapshot:
    """The entries of one list_folder call (or of one batch of changes), paged by cursors."""

    path_lower: str
    recursive: bool
    seq: int
    entries: list[dict[str, Any]]


class Listing:
    """Mixin for :class:`~.store.Store`: the list_folder routes."""

    _lock: threading.RLock
    page_size: int
    seq: int
    entries: dict[str, Entry]
    children: dict[str, set[str]]
    changes: list[tuple[int, str, str]]
    snapshots: OrderedDict[str, Snapshot]

    # Store provides _path(path) and _entry(path).

    def list_folder(self, path: str, recursive: bool, limit: int | None) -> dict[str, Any]:
        if path == "/":
            raise BadRequest('request body: path: Specify the root folder as an empty string '
                             'rather than as "/".')
        with self._lock:
            display = self._path(path)
            lower = display.lower()
            if lower:
                entry = self._entry(display)
                if entry.kind != "folder":
                    raise lookup_error("not_folder")
            found: list[dict[str, Any]] = []
            if recursive and lower:
                found.append(self.entries[lower].metadata())
            self._collect(lower, recursive, found)
            return self._page(self._snapshot(Snapshot(lower, recursive, self.seq, found)), 0, limit)

    def _collect(self, lower: str, recursive: bool, found: list[dict[str, Any]]) -> None:
        for child in sorted(self.children.get(lower, ())):
            found.append(self.entries[child].metadata())
            if recursive and self.entries[child].kind == "folder":
                self._collect(child, True, found)

    def _snapshot(self, snapshot: Snapshot) -> str:
        sid = secrets.token_hex(8)
        self.snapshots[sid] = snapshot
        while len(self.snapshots) > MAX_SNAPSHOTS:
            self.snapshots.popitem(last=False)
        return sid

    def _page(self, sid: str, offset: int, limit: int | None) -> dict[str, Any]:
        snapshot = self.snapshots[sid]
        size = min(limit or self.page_size, self.page_size)
        entries = snapshot.entries[offset:offset + size]
        end = offset + len(entries)
        raw = json.dumps([sid, end, limit]).encode()
        cursor = "AAF" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return {"entries": entries, "cursor": cursor, "has_more": end < len(snapshot.entries)}

    def list_folder_continue(self, cursor: str) -> dict[str, Any]:
        try:
            raw = cursor[3:] + "=" * (-len(cursor[3:]) % 4)
            sid, offset, limit = json.loads(base64.urlsafe_b64decode(raw))
        except ValueError:
            raise BadRequest('Invalid "cursor" parameter') from None
        with self._lock:
            snapshot = self.snapshots.get(sid)
            if snapshot is None:
                raise ApiFailure(*union("reset"))
            if offset < len(snapshot.entries):
                return self._page(sid, offset, limit)
            return self._page(self._snapshot(self._changes_since(snapshot)), 0, limit)

    def _changes_since(self, snapshot: Snapshot) -> Snapshot:
        """Entries changed under the snapshot's folder after it was taken (deleted ones tagged so)."""
        latest: dict[str, str] = {}
        base = snapshot.path_lower
        for seq, lower, display in self.changes:
            if seq <= snapshot.seq:
                continue
            inside = lower.startswith(base + "/") and (snapshot.recursive or parent_of(lower) == base)
            if inside or (snapshot.recursive and lower == base and base):
                latest.pop(lower, None)
                latest[lower] = display
        found = []
        for lower, display in latest.items():
            entry = self.entries.get(lower)
            if entry is not None:
                found.append(entry.metadata())
            else:
                found.append({".tag": "deleted", "name": display.rsplit("/", 1)[-1],
                              "path_lower": lower, "path_display": display})
        return Snapshot(base, snapshot.recursive, self.seq, found)
