"""Seed and inspect an emulated service directly, around the storage under test.

Every emulator hands out :class:`Namespace` views (``emulator.namespace()`` for a
fresh one, ``emulator.namespace(options)`` for the one a storage's OPTIONS point
at). A namespace is the bucket (S3, GCS), container (Azure), root folder
(Dropbox), directory (FTP, SFTP) or local-driver container (libcloud) that a
storage works in. Keys are the service's own keys inside it, ``/``-separated:
what the service really holds, so a storage ``location`` inside a bucket shows
up as a key prefix. Each service talks through its own SDK or protocol (not
through the backend under test), on the emulator's own endpoint.

Not every service stores a content type or metadata: ``fields`` says what a
namespace reports, and ``put()`` refuses, naming the service, what it cannot
store rather than dropping it.
"""

from __future__ import annotations

import io
import posixpath
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO, Union

if TYPE_CHECKING:
    from .base import Emulator

Data = Union[bytes, str, BinaryIO]

CONTENT_TYPE = "content_type"
METADATA = "metadata"


@dataclass(frozen=True)
class StoredObject:
    """One object as the service holds it. ``content_type`` and ``metadata`` are ``None``
    where the service does not store them (see ``Namespace.fields``)."""

    key: str
    data: bytes
    content_type: str | None = None
    metadata: dict[str, str] | None = field(default=None)

    @property
    def size(self) -> int:
        return len(self.data)


class Namespace(ABC):
    """What one namespace of an emulated service holds: put, list, read, delete, clear.

    ``options`` are the backend OPTIONS that point a storage at this namespace;
    ``storage()`` makes one. A service's client is made on first use (``_connect()``)
    and closed by ``close()`` (also a context manager).
    """

    #: Which optional fields this service stores: a subset of {"content_type", "metadata"}.
    fields: frozenset[str] = frozenset()

    def __init__(self, emulator: Emulator, options: dict[str, Any]) -> None:
        self.emulator = emulator
        self.options = dict(options)
        self._connection: Any = None

    # -- what each service implements --------------------------------------------
    @abstractmethod
    def _put(self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str] | None) -> None:
        """Store ``data`` under ``key`` (creating parent folders where the service has them)."""

    @abstractmethod
    def _keys(self) -> list[str]:
        """Every object key in the namespace (any order); an absent namespace has none."""

    @abstractmethod
    def _get(self, key: str) -> StoredObject:
        """The object under ``key``; ``FileNotFoundError`` if there is none."""

    @abstractmethod
    def _delete(self, key: str) -> None:
        """Remove the object under ``key`` (and folders it leaves empty, where there are folders)."""

    def _connect(self) -> Any:
        """The service's client for this view (made on first use); ``None`` if it needs none."""
        return None

    def _disconnect(self, connection: Any) -> None:
        connection.close()

    @property
    def connection(self) -> Any:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def close(self) -> None:
        """Close the client this view opened, if any."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._disconnect(connection)

    # -- the API ---------------------------------------------------------------------
    @property
    def service(self) -> str:
        return self.emulator.name

    def put(self, key: str, data: Data = b"", *, content_type: str | None = None,
            metadata: dict[str, str] | None = None) -> StoredObject:
        """Put ``data`` (bytes, text as UTF-8, or a binary file) under ``key``, bypassing the storage."""
        key = self._check_key(key)
        if content_type is not None and CONTENT_TYPE not in self.fields:
            raise NotImplementedError(f"the {self.service} service stores no content type; "
                                      f"put {key!r} without content_type=")
        if metadata and METADATA not in self.fields:
            raise NotImplementedError(f"the {self.service} service stores no metadata; "
                                      f"put {key!r} without metadata=")
        payload = _as_bytes(data)
        self._put(key, payload, content_type, dict(metadata) if metadata else None)
        stored_metadata = dict(metadata or {}) if METADATA in self.fields else None
        return StoredObject(key, payload, content_type, stored_metadata)

    def keys(self, prefix: str = "") -> list[str]:
        """Sorted keys of every object in the namespace (under ``prefix``)."""
        return sorted(k for k in self._keys() if k.startswith(prefix))

    def get(self, key: str) -> StoredObject:
        """The object under ``key`` with its bytes, content type and metadata."""
        return self._get(self._check_key(key))

    def read(self, key: str) -> bytes:
        """The bytes under ``key``; ``FileNotFoundError`` if there are none."""
        return self.get(key).data

    def objects(self, prefix: str = "") -> list[StoredObject]:
        """Every object (under ``prefix``), sorted by key."""
        return [self._get(key) for key in self.keys(prefix)]

    def exists(self, key: str) -> bool:
        return self._check_key(key) in self._keys()

    def delete(self, key: str) -> None:
        """Remove ``key``; no error when it is absent."""
        key = self._check_key(key)
        if key in self._keys():
            self._delete(key)

    def clear(self) -> None:
        """Remove every object of the namespace (the namespace itself stays usable)."""
        for key in sorted(self._keys(), reverse=True):
            self._delete(key)

    def storage(self, **overrides: Any) -> Any:
        """A storage of the emulator's backend on this namespace (``overrides`` are OPTIONS)."""
        from django.utils.module_loading import import_string

        return import_string(self.emulator.backend)(**{**self.options, **overrides})

    def __enter__(self) -> Namespace:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.service} {self.describe()}>"

    def describe(self) -> str:
        """Which bucket/container/directory this is."""
        return ""

    @staticmethod
    def _check_key(key: str) -> str:
        normal = posixpath.normpath(key) if key else ""
        if (not key or key != normal or key.startswith("/") or normal.startswith("..")
                or "\x00" in key or key.endswith("/")):
            raise ValueError(f"not a key inside the namespace: {key!r} (use 'a/b.txt' forms)")
        return key


class TreeNamespace(Namespace):
    """A namespace that is a directory tree (FTP, SFTP, Dropbox, a local directory).

    Subclasses give ``root`` (the namespace's absolute path on the service) and six
    primitives on absolute paths (``_list``, ``_mkdir``, ``_write``, ``_read``, ``_remove``,
    ``_rmdir``); listing, clearing and removing the folders a
    delete leaves empty are done here once.
    """

    root: str = "/"

    @abstractmethod
    def _list(self, path: str) -> tuple[list[str], list[str]]:
        """(folder names, file names) directly in ``path``; ``([], [])`` if it does not exist."""

    @abstractmethod
    def _mkdir(self, path: str) -> None:
        """Create folder ``path`` (its parent exists); no error if it exists already."""

    def _makedirs(self, path: str) -> None:
        """Create folder ``path`` and its parents."""
        current = ""
        for part in (p for p in path.split("/") if p):
            current += "/" + part
            self._mkdir(current)

    @abstractmethod
    def _write(self, path: str, data: bytes) -> None: ...

    @abstractmethod
    def _read(self, path: str) -> bytes:
        """The file's bytes; ``FileNotFoundError`` if there is no file at ``path``."""

    @abstractmethod
    def _remove(self, path: str) -> None: ...

    @abstractmethod
    def _rmdir(self, path: str) -> None:
        """Remove the empty folder ``path``."""

    def _path(self, key: str) -> str:
        return posixpath.join(self.root, key)

    def _put(self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str] | None) -> None:
        path = self._path(key)
        self._makedirs(posixpath.dirname(path))
        self._write(path, data)

    def _walk(self) -> tuple[list[str], list[str]]:
        """(every folder, every file) under the root as keys, folders parents first."""
        folders: list[str] = []
        files: list[str] = []
        pending = [""]
        while pending:
            prefix = pending.pop()
            dirs, names = self._list(self._path(prefix) if prefix else self.root)
            files.extend(join(prefix, name) for name in names)
            for name in dirs:
                folders.append(join(prefix, name))
                pending.append(join(prefix, name))
        return folders, files

    def _keys(self) -> list[str]:
        return self._walk()[1]

    def _get(self, key: str) -> StoredObject:
        try:
            return StoredObject(key, self._read(self._path(key)))
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"no {key!r} in the {self.service} {self.describe()}") from exc

    def _delete(self, key: str) -> None:
        self._remove(self._path(key))
        parent = posixpath.dirname(key)
        while parent:
            dirs, files = self._list(self._path(parent))
            if dirs or files:
                break
            self._rmdir(self._path(parent))
            parent = posixpath.dirname(parent)

    def clear(self) -> None:
        folders, files = self._walk()
        for key in files:
            self._remove(self._path(key))
        for key in sorted(folders, key=lambda k: k.count("/"), reverse=True):
            self._rmdir(self._path(key))

    def describe(self) -> str:
        return f"directory {self.root!r}"


def _as_bytes(data: Data) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    if isinstance(data, io.IOBase) or hasattr(data, "read"):
        content = data.read()
        return content.encode("utf-8") if isinstance(content, str) else bytes(content)
    raise TypeError(f"put() takes bytes, str or a binary file, not {type(data).__name__}")


def join(root: str, key: str) -> str:
    """``key`` under the directory ``root`` (``/`` for the top)."""
    return posixpath.join(root, key) if root else key


__all__ = ["CONTENT_TYPE", "METADATA", "Namespace", "StoredObject", "TreeNamespace", "join"]
