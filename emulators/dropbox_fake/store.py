"""The fake's state: a case-insensitive tree of files and folders, contents on disk.

Metadata lives in memory (small); file contents, upload sessions and single
uploads in progress live in a directory, so a 500 MB file never sits in RAM.
Every mutation happens under one lock, so a create-only commit (``add`` mode
without autorename) is race-free.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO

from .entry import Entry, Link, parent_of
from .listing import Listing, Snapshot
from .sessions import Session, Sessions
from .wire import ApiFailure, BadRequest, LookupFailure, WriteFailure, conflict, lookup_error, union

#: Names Dropbox refuses to store (its "ignored files").
DISALLOWED_NAMES = {"desktop.ini", "thumbs.db", ".ds_store", "icon\r", ".dropbox", ".dropbox.attr"}
#: Dropbox accepts at most 150 MiB per upload request.
MAX_REQUEST_BYTES = 150 * 1024 * 1024


class Store(Listing, Sessions):
    """Files, folders, sessions, cursors, links and tokens of one fake Dropbox account."""

    def __init__(self, root: Path, *, access_tokens: set[str], app_key: str, app_secret: str,
                 refresh_tokens: set[str], page_size: int = 100) -> None:
        self.root = root
        self.page_size = page_size
        self.access_tokens = set(access_tokens)
        self.app_key, self.app_secret = app_key, app_secret
        self.refresh_tokens = set(refresh_tokens)
        self.token_lifetime = 14400  # seconds, like Dropbox's short-lived tokens
        self.link_lifetime = 4 * 3600  # temporary links expire after four hours
        self.session_lifetime = 7 * 24 * 3600
        self._issued: dict[str, float] = {}
        self._lock = threading.RLock()
        self._counter = 0
        self.reset()

    # -- lifecycle ---------------------------------------------------------------
    def reset(self) -> None:
        """Forget every file, folder, session, cursor and link (tokens stay valid)."""
        with self._lock:
            self.entries: dict[str, Entry] = {}
            self.children: dict[str, set[str]] = {"": set()}
            self.ids: dict[str, str] = {}
            self.sessions: dict[str, Session] = {}
            self.snapshots: OrderedDict[str, Snapshot] = OrderedDict()
            self.changes: list[tuple[int, str, str]] = []
            self.links: dict[str, Link] = {}
            self.seq = 0
            for sub in ("blobs", "sessions", "incoming"):
                shutil.rmtree(self.root / sub, ignore_errors=True)
                (self.root / sub).mkdir(parents=True)

    # -- tokens --------------------------------------------------------------------
    def check_token(self, token: str) -> str:
        """'ok', 'expired' or 'invalid'."""
        if token in self.access_tokens:
            return "ok"
        expires = self._issued.get(token)
        if expires is None:
            return "invalid"
        return "ok" if time.time() < expires else "expired"

    def refresh(self, refresh_token: str, client_id: str, client_secret: str | None) -> dict[str, Any]:
        """oauth2/token with grant_type=refresh_token; raises OAuthFailure."""
        if client_id != self.app_key or (client_secret is not None and client_secret != self.app_secret):
            raise OAuthFailure("invalid_client", "Invalid client_id or client_secret")
        if refresh_token not in self.refresh_tokens:
            raise OAuthFailure("invalid_grant", "refresh token is invalid or revoked")
        token = "sl." + secrets.token_urlsafe(32)
        self._issued[token] = time.time() + self.token_lifetime
        return {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime}

    def expire_issued_tokens(self) -> None:
        """Make every token issued by oauth2/token expire now (the SDK should refresh)."""
        for token in self._issued:
            self._issued[token] = 0.0

    # -- paths -----------------------------------------------------------------------
    def _path(self, path: str, failure: type[ApiFailure] = LookupFailure) -> str:
        """Validate a request path; returns it without a trailing slash ('' is the root)."""
        if path.startswith("id:"):
            lower = self.ids.get(path)
            if lower is None or lower not in self.entries:
                raise lookup_error("not_found")
            return self.entries[lower].path_display
        if path == "":
            return ""
        parts = path.split("/")
        if parts[0] != "" or any(p in ("", ".", "..") for p in parts[1:]):
            raise failure(*union("malformed_path"))
        return path

    def _entry(self, path: str) -> Entry:
        display = self._path(path)
        entry = self.entries.get(display.lower())
        if entry is None:
            raise lookup_error("not_found")
        return entry

    def _file(self, path: str) -> Entry:
        entry = self._entry(path)
        if entry.kind != "file":
            raise lookup_error("not_file")
        return entry

    def blob_path(self, entry: Entry) -> Path:
        return self.root / "blobs" / entry.blob

    def _new_id(self) -> str:
        return "id:" + secrets.token_urlsafe(16).replace("-", "A").replace("_", "B")

    def _next_rev(self) -> str:
        self._counter += 1
        return f"{secrets.token_hex(3)}{self._counter:010x}"

    def _log(self, entry_or_display: Entry | str) -> None:
        self.seq += 1
        display = entry_or_display.path_display if isinstance(entry_or_display, Entry) else entry_or_display
        self.changes.append((self.seq, display.lower(), display))

    def _add(self, entry: Entry) -> None:
        lower = entry.path_lower
        self.entries[lower] = entry
        self.ids[entry.id] = lower
        self.children.setdefault(parent_of(lower), set()).add(lower)
        if entry.kind == "folder":
            self.children.setdefault(lower, set())
        self._log(entry)

    def _remove(self, lower: str) -> Entry:
        entry = self.entries.pop(lower)
        self.ids.pop(entry.id, None)
        self.children.get(parent_of(lower), set()).discard(lower)
        for child in sorted(self.children.pop(lower, set())):
            self._remove(child)
        if entry.blob:
            self.blob_path(entry).unlink(missing_ok=True)
        self._log(entry.path_display)
        return entry

    # -- metadata ------------------------------------------------------------------------
    def get_metadata(self, path: str) -> dict[str, Any]:
        with self._lock:
            if self._path(path) == "":
                raise BadRequest("request body: path: The root folder is unsupported.")
            return self._entry(path).metadata()

    # -- delete, folders, links ----------------------------------------------------------
    def delete(self, path: str) -> dict[str, Any]:
        with self._lock:
            entry = self._entry(path)
            metadata = entry.metadata()
            self._remove(entry.path_lower)
            return metadata

    def create_folder(self, path: str, autorename: bool) -> dict[str, Any]:
        with self._lock:
            display = self._write_path(path)
            existing = self.entries.get(display.lower())
            if existing is not None:
                if not autorename:
                    raise conflict(existing.kind)
                display = self._free_name(display)
            display = self._make_parents(display)
            entry = Entry("folder", display, self._new_id())
            self._add(entry)
            return entry.metadata(tagged=False)

    def temporary_link(self, path: str) -> tuple[dict[str, Any], str]:
        with self._lock:
            entry = self._file(path)
            token = secrets.token_urlsafe(24)
            self.links[token] = Link(entry.path_lower, entry.rev, time.time() + self.link_lifetime)
            return entry.metadata(tagged=False), token

    def open_link(self, token: str) -> tuple[Entry, BinaryIO] | str:
        """The file behind a temporary link and an open handle, or 'gone'/'not found'."""
        with self._lock:
            link = self.links.get(token)
            if link is None:
                return "not found"
            entry = self.entries.get(link.path_lower)
            if time.time() >= link.expires or entry is None or entry.rev != link.rev:
                return "gone"
            return entry, open(self.blob_path(entry), "rb")

    def open_file(self, path: str) -> tuple[Entry, BinaryIO]:
        with self._lock:
            entry = self._file(path)
            return entry, open(self.blob_path(entry), "rb")

    # -- writes ------------------------------------------------------------------------------
    def _write_path(self, path: str) -> str:
        display = self._path(path, WriteFailure)
        if display == "":
            raise WriteFailure(*union("malformed_path"))
        if any(part.lower() in DISALLOWED_NAMES for part in display.split("/")):
            raise WriteFailure(*union("disallowed_name"))
        return display

    def _make_parents(self, display: str, *, check_only: bool = False) -> str:
        """Create missing parent folders (Dropbox does so implicitly); keep existing casing."""
        parts = display.split("/")[1:]
        current = ""
        for part in parts[:-1]:
            candidate = f"{current}/{part}"
            existing = self.entries.get(candidate.lower())
            if existing is None:
                if not check_only:
                    self._add(Entry("folder", candidate, self._new_id()))
            elif existing.kind == "file":
                raise conflict("file_ancestor")
            else:
                candidate = existing.path_display
            current = candidate
        return f"{current}/{parts[-1]}"

    def _free_name(self, display: str) -> str:
        folder, name = display.rsplit("/", 1)
        stem, dot, ext = name.rpartition(".") if "." in name.lstrip(".") else (name, "", "")
        for n in range(1, 10_000):
            candidate = f"{folder}/{stem} ({n}){dot}{ext}"
            if candidate.lower() not in self.entries:
                return candidate
        raise conflict("file")

    def check_writable(self, path: str) -> str:
        """Fail early on a path no commit could use (before the body is received)."""
        with self._lock:
            return self._write_path(path)

    def commit(self, path: str, source: Path, size: int, chash: str, *, mode: str, rev: str | None,
               autorename: bool, strict_conflict: bool, client_modified: datetime | None) -> dict[str, Any]:
        """Make ``source`` (a received file) the content of ``path`` under the write mode's rules.

        ``source`` is moved into place on success and left alone otherwise (the caller cleans up)."""
        with self._lock:
            display = self._write_path(path)
            self._make_parents(display, check_only=True)
            existing = self.entries.get(display.lower())
            kind = None
            if existing is not None and existing.kind == "folder":
                kind = "folder"
            elif existing is not None and (mode == "add" or (mode == "update" and existing.rev != rev)):
                kind = "file"
            elif existing is None and mode == "update" and strict_conflict:
                kind = "file"
            identical = existing is not None and existing.content_hash == chash
            if kind == "file" and identical and not strict_conflict:
                return existing.metadata(tagged=False)  # identical content is not a conflict
            if kind is not None:
                if not autorename:
                    raise conflict(kind)
                display, existing = self._free_name(display), None
            display = self._make_parents(display)
            now = datetime.now(timezone.utc).replace(microsecond=0)
            blob = secrets.token_hex(16)
            os.replace(source, self.root / "blobs" / blob)
            if existing is not None:
                self.entries.pop(existing.path_lower)
                if existing.blob:
                    self.blob_path(existing).unlink(missing_ok=True)
                display = existing.path_display
            file_id = existing.id if existing else self._new_id()
            entry = Entry("file", display, file_id, self._next_rev(), size, blob, chash, now,
                          client_modified or now)
            self._add(entry)
            return entry.metadata(tagged=False)

    def incoming(self) -> Path:
        """A fresh file name for a single upload being received."""
        return self.root / "incoming" / secrets.token_hex(16)


class OAuthFailure(Exception):
    """An oauth2/token error: HTTP 400 ``{"error", "error_description"}``."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description = error, description
