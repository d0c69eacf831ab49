"""Dropbox API v2 wire formats: error unions, metadata JSON, times, content hashes."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

#: Dropbox hashes content in blocks of 4 MiB (https://www.dropbox.com/developers/reference/content-hash).
HASH_BLOCK = 4 * 1024 * 1024


class ContentHasher:
    """SHA-256 over the concatenated SHA-256 digests of each 4 MiB block."""

    def __init__(self) -> None:
        self._overall = hashlib.sha256()
        self._block = hashlib.sha256()
        self._block_pos = 0

    def update(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            if self._block_pos == HASH_BLOCK:
                self._overall.update(self._block.digest())
                self._block, self._block_pos = hashlib.sha256(), 0
            take = view[: HASH_BLOCK - self._block_pos]
            self._block.update(take)
            self._block_pos += len(take)
            view = view[len(take):]

    def copy(self) -> "ContentHasher":
        clone = ContentHasher.__new__(ContentHasher)
        clone._overall, clone._block = self._overall.copy(), self._block.copy()
        clone._block_pos = self._block_pos
        return clone

    def hexdigest(self) -> str:
        overall = self._overall.copy()
        if self._block_pos:
            overall.update(self._block.digest())
        return overall.hexdigest()


def content_hash(data: bytes) -> str:
    hasher = ContentHasher()
    hasher.update(data)
    return hasher.hexdigest()


class ApiFailure(Exception):
    """A route error: HTTP 409 with ``{"error_summary", "error"}``."""

    status = 409

    def __init__(self, error: dict[str, Any], tags: list[str]) -> None:
        super().__init__("/".join(tags))
        self.error = error
        self.tags = tags

    @property
    def summary(self) -> str:
        return "/".join(self.tags) + "/.."

    def body(self) -> dict[str, Any]:
        return {"error_summary": self.summary, "error": self.error}

    def wrap(self, tag: str) -> "ApiFailure":
        """This error as the value of union member ``tag`` (``{".tag": tag, tag: ...}``)."""
        return type(self)({".tag": tag, tag: self.error}, [tag, *self.tags])

    def wrap_struct(self, tag: str, field: str, **extra: Any) -> "ApiFailure":
        """This error as field ``field`` of a struct member ``tag`` (struct fields are inlined)."""
        return type(self)({".tag": tag, field: self.error, **extra}, [tag, *self.tags])


class LookupFailure(ApiFailure):
    """A ``LookupError`` (not_found, not_file, not_folder, malformed_path)."""


class WriteFailure(ApiFailure):
    """A ``WriteError`` (conflict, disallowed_name, malformed_path)."""


class BadRequest(Exception):
    """HTTP 400, text/plain: ``Error in call to API function "<route>": <message>``."""


def union(*tags: str, **fields: Any) -> tuple[dict[str, Any], list[str]]:
    """Nested union value for ``tags`` (outermost first); ``fields`` go in the innermost."""
    value: dict[str, Any] = {".tag": tags[-1], **fields}
    for tag in reversed(tags[:-1]):
        value = {".tag": tag, tag: value}
    return value, list(tags)


def lookup_error(tag: str) -> LookupFailure:
    return LookupFailure(*union(tag))


def conflict(kind: str) -> WriteFailure:
    """WriteError.conflict with a WriteConflictError of ``kind`` (file, folder, file_ancestor)."""
    return WriteFailure(*union("conflict", kind))


def timestamp(value: datetime) -> str:
    """Dropbox's timestamp format: UTC, whole seconds, ``Z``."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def void_tag(value: Any, default: str) -> tuple[str, Any]:
    """Read a union sent as ``"add"``, ``{".tag": "add"}`` or ``{".tag": "update", "update": x}``."""
    if value is None:
        return default, None
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict) and isinstance(value.get(".tag"), str):
        tag = value[".tag"]
        return tag, value.get(tag)
    raise BadRequest(f"expected a union, got {value!r}")
