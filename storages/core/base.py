"""Django's Storage contract, implemented once on top of a few backend hooks.

A backend subclasses :class:`BaseStorage`, declares its ``options`` and
implements the hooks: ``_stat``, ``_open_stream``, ``_begin_upload``,
``_delete``, ``_list``, ``url`` and ``translate_error``. Everything else —
name validation, the overwrite policy, streaming saves, missing-file errors,
time zones, capabilities — lives here.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import threading
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any, Callable, Iterable, TypeVar

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name
from django.utils import timezone
from django.utils.deconstruct import deconstructible

from .errors import ServiceUnavailable, translated
from .files import ObjectInfo, RemoteFile, Upload, _Writer
from .names import dir_prefix, join_root
from .options import Configurable

T = TypeVar("T")

#: Every capability a backend may lack; tests that need one declare it.
CAPABILITIES = {
    "ranges": "reads can start at an offset without fetching the bytes before it",
    "signed_urls": "url() returns a link the service checks (signature and expiry)",
    "fetchable_urls": "url() returns an http(s) link that serves the bytes",
    "modified_time": "get_modified_time()",
    "created_time": "get_created_time()",
    "accessed_time": "get_accessed_time()",
    "create_only": "a save with overwriting off cannot replace an object, even under a race",
}

MAX_NAME_ATTEMPTS = 100


@deconstructible
class BaseStorage(Configurable, Storage):
    """Shared implementation of Django's ``Storage`` API for remote services."""

    #: capability -> reason this backend cannot do it (see CAPABILITIES).
    unsupported: dict[str, str] = {}
    #: Bytes per upload part; the writer holds at most one part in memory.
    part_size: int = 8 * 1024 * 1024
    #: Read buffer size.
    chunk_size: int = 1024 * 1024
    #: Whether objects stored with ``Content-Encoding: gzip`` are decoded on read.
    decode_gzip: bool = False
    #: The overwrite policy: every backend declares an option named
    #: ``file_overwrite`` (annotation only: a class value here would shadow the
    #: backend's setting and default in option resolution).
    file_overwrite: bool

    def _options_changed(self) -> None:
        self._local = threading.local()

    # -- helpers for backends ------------------------------------------------
    @property
    def root(self) -> str:
        """The prefix every key lives under (a backend's location/root option)."""
        return getattr(self, "location", "") or ""

    def _key(self, name: str) -> str:
        return join_root(self.root, name)

    def _per_thread(self, attr: str, factory: Callable[[], T]) -> T:
        """A value (usually an SDK client) created once per thread."""
        value = getattr(self._local, attr, None)
        if value is None:
            value = factory()
            setattr(self._local, attr, value)
        return value

    def capabilities(self) -> set[str]:
        return set(CAPABILITIES) - set(self.unsupported)

    def endpoint(self) -> str:
        """Where the service is, for error messages (no credentials)."""
        return type(self).__name__

    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        """Map an SDK error to a Django/Python one; backends override."""
        if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            return ServiceUnavailable(f"{type(self).__name__} could not reach {self.endpoint()}: {exc}")
        return None

    # -- hooks ---------------------------------------------------------------
    def _stat(self, key: str) -> ObjectInfo:
        """Metadata of an object; FileNotFoundError if missing. One request."""
        raise NotImplementedError

    def _open_stream(self, key: str, start: int) -> tuple[Any, ObjectInfo]:
        """A readable stream of the object from byte ``start`` (or a ``FromStart`` stream
        from byte 0, where the service cannot start there), and its info."""
        raise NotImplementedError

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        """An Upload for ``key``; create-only uploads raise FileExistsError on commit."""
        raise NotImplementedError

    def _delete(self, key: str) -> None:
        """Delete an object; missing is not an error."""
        raise NotImplementedError

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        """Direct children (dirs, files) under ``prefix`` ('' or ending in '/'),
        following every page."""
        raise NotImplementedError

    def _start_upload(self, name: str, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        if content_type is None:
            content_type = mimetypes.guess_type(name)[0]
        with translated(self, name):
            return self._begin_upload(key, create_only=create_only, content_type=content_type)

    # -- Django Storage API --------------------------------------------------
    def _open(self, name: str, mode: str = "rb") -> RemoteFile:
        return RemoteFile(self, name, mode)

    def _save(self, name: str, content: File) -> str:
        self._write(name, content, create_only=False)
        return name

    def _write(self, name: str, content: File, *, create_only: bool) -> None:
        """Stream ``content`` to ``name``; on any failure the upload is aborted."""
        key = self._key(name)
        content_type = getattr(content, "content_type", None)
        upload = self._start_upload(name, key, create_only=create_only, content_type=content_type)
        writer = _Writer(self, name, upload)
        try:
            for chunk in _byte_chunks(content, self.part_size):
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        writer.close()

    def save(self, name: str | None, content: Any, max_length: int | None = None) -> str:
        """Save ``content`` under ``name`` or, with overwriting off, a free variant of it."""
        if name is None:
            name = content.name
        if not hasattr(content, "chunks"):
            content = File(content, name)
        validate_file_name(name, allow_relative_path=True)
        self._key(name)  # refuse names that escape the root before anything is sent
        if self.file_overwrite:
            name = self.get_available_name(name, max_length=max_length)
            name = self._save(name, content)
        else:
            name = self._save_new(name, content, max_length)
        validate_file_name(name, allow_relative_path=True)
        return name.replace("\\", "/")

    def _save_new(self, name: str, content: File, max_length: int | None) -> str:
        """Create-only save: try the name, and on conflict the next free name."""
        if max_length and len(name) > max_length:
            name = self.get_available_name(name, max_length=max_length)
        for _ in range(MAX_NAME_ATTEMPTS):
            try:
                self._write(name, content, create_only=True)
                return name
            except FileExistsError:
                name = self.get_available_name(name, max_length=max_length)
        raise FileExistsError(f"Could not find a free name for {name!r} after {MAX_NAME_ATTEMPTS} attempts")

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        if self.file_overwrite:
            return _truncate(name.replace("\\", "/"), max_length)
        return super().get_available_name(name, max_length=max_length)

    def exists(self, name: str) -> bool:
        try:
            self._stat_name(name)
        except FileNotFoundError:
            return False
        return True

    def _stat_name(self, name: str) -> ObjectInfo:
        key = self._key(name)
        with translated(self, name):
            return self._stat(key)

    def size(self, name: str) -> int:
        info = self._stat_name(name)
        if info.size is None:
            raise NotImplementedError(f"{type(self).__name__} cannot report sizes")
        return info.size

    def delete(self, name: str) -> None:
        if not name:
            raise ValueError("The name must be given to delete().")
        key = self._key(name)
        with translated(self, name):
            self._delete(key)

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = dir_prefix(self._key(path))
        with translated(self, path):
            return self._list(prefix)

    def get_modified_time(self, name: str) -> datetime:
        return self._time(name, "modified")

    def get_created_time(self, name: str) -> datetime:
        return self._time(name, "created")

    def get_accessed_time(self, name: str) -> datetime:
        return self._time(name, "accessed")

    def _time(self, name: str, which: str) -> datetime:
        capability = f"{which}_time"
        if capability in self.unsupported:
            raise NotImplementedError(f"{type(self).__name__}: {self.unsupported[capability]}")
        value = getattr(self._stat_name(name), which)
        if value is None:
            raise NotImplementedError(f"{type(self).__name__} did not report a {which} time for {name!r}")
        return localize(value)


_django_deconstruct = BaseStorage.deconstruct


def _deconstruct_without_secrets(self: BaseStorage) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """Like Django's ``deconstruct()`` (used by migrations), minus secret keywords:
    a migration file must never carry a key, token or password."""
    path, args, kwargs = _django_deconstruct(self)
    secrets = self._secret_names()
    return path, args, {k: v for k, v in kwargs.items() if k not in secrets}


BaseStorage.deconstruct = _deconstruct_without_secrets  # type: ignore[method-assign]


def localize(value: datetime) -> datetime:
    """Aware UTC when ``USE_TZ``, otherwise naive in the default time zone."""
    from django.conf import settings

    if value.tzinfo is None:
        value = value.replace(tzinfo=dt_timezone.utc)
    if settings.USE_TZ:
        return value.astimezone(dt_timezone.utc)
    return timezone.make_naive(value, timezone.get_default_timezone())


def _truncate(name: str, max_length: int | None) -> str:
    """Shorten the file root so ``name`` fits ``max_length`` (Django's rule)."""
    if not max_length or len(name) <= max_length:
        return name
    dir_name, file_name = posixpath.split(name)
    file_root, file_ext = os.path.splitext(file_name)
    excess = len(name) - max_length
    file_root = file_root[:-excess]
    if not file_root:
        raise SuspiciousFileOperation(
            f'Storage can not find an available filename for "{name}". '
            "Please make sure that the corresponding file field allows sufficient \"max_length\"."
        )
    return posixpath.join(dir_name, file_root + file_ext)


def _byte_chunks(content: Any, size: int) -> Iterable[bytes]:
    """Bytes of a File/stream in chunks of ``size``, from its start; str is UTF-8 encoded."""
    if hasattr(content, "seekable") and content.seekable():
        content.seek(0)
    elif hasattr(content, "seek") and not hasattr(content, "seekable"):
        try:
            content.seek(0)
        except (AttributeError, OSError, ValueError):
            pass
    read = content.read
    while True:
        chunk = read(size)
        if not chunk:
            break
        yield chunk.encode("utf-8") if isinstance(chunk, str) else chunk
