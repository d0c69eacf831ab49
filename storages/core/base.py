"""Django's Storage contract, implemented once on top of a few backend hooks.

A backend subclasses :class:`BaseStorage`, declares its ``options`` (and, where the
service has one, the option naming its bucket/container), the SDK it imports and
the extra that installs it, the capabilities it lacks, and implements the hooks:
``_stat``, ``_open_stream``, ``_begin_upload``, ``_delete``, ``_list``, ``_is_dir``
(object stores), ``url`` and ``translate_error`` (and ``_direct_upload`` where the
service signs upload grants: ``storages.core.direct``). Everything else — name
validation, the overwrite policy, streaming saves, directories, missing-file and
missing-container errors, time zones, capabilities — lives here.

Directories (one rule for every backend)
    A name is a *directory* when it is the root, when a file lies below it
    (``name/...``), or, on services with real directories (FTP, SFTP, Dropbox),
    when such a directory exists, even empty. Object stores have no empty
    directories. ``exists(name)`` is True for a file or a directory: one metadata
    request for a file; after a miss, object stores ask one one-key listing of
    ``name/``. ``size``, ``open`` (read) and ``get_*_time`` of a directory raise
    ``IsADirectoryError``; of nothing, ``FileNotFoundError``. ``listdir(name)``
    gives the direct children ``(dirs, files)`` across every page, and
    ``([], [])`` for a name that is not a directory (missing, or a file).
    ``delete(name)`` deletes a file; a missing name is a no-op; a directory is
    never deleted recursively: an empty real directory is removed (as Django's
    ``FileSystemStorage`` does), any other directory raises ``IsADirectoryError``
    and nothing is deleted; the root is never deleted. This is what
    ``collectstatic --clear`` relies on: ``exists("")`` and ``exists(dir)`` are
    True while files lie below, and it deletes files one by one.

Errors (see ``storages.core.errors``)
    Every SDK call runs inside ``translated``: what leaves a public method is one of
    Django's/Python's errors, chained to the SDK's. A bucket/container that does not
    exist is one error on every backend, :meth:`BaseStorage.missing_container`.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import posixpath
import threading
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from typing import Any, Callable, Iterable, Mapping, TypeVar

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import File
from django.core.files.storage import Storage
from django.core.files.utils import validate_file_name
from django.utils import timezone
from django.utils.deconstruct import deconstructible

from .capabilities import Capability, unsupported_table
from .compat import BackendFile, apply_default_settings
from .direct import DirectUpload, UploadRequest, issue
from .errors import ServiceUnavailable, StorageError, not_empty, redact, secret_strings, translated
from .files import READ_MODES, ObjectInfo, Upload, _Writer
from .names import clean_name, dir_prefix, join_root
from .options import Configurable, Option
from .resume import READ_RESUMES
from .sdk import require

T = TypeVar("T")

MAX_NAME_ATTEMPTS = 100


@deconstructible
class BaseStorage(Configurable, Storage):
    """Shared implementation of Django's ``Storage`` API for remote services."""

    #: capability -> reason this backend cannot do it (names: ``Capability``; checked at class creation).
    unsupported: Mapping[Capability, str] = {}
    #: The SDK modules this backend imports, and the extra that installs them
    #: (``pip install 'django-storages[<extra>]'``); a missing one is named in the error.
    sdk_modules: tuple[str, ...] = ()
    sdk_extra: str | None = None
    #: The option naming the bucket/container, on services that have one, and the
    #: option that creates a missing one on first use (if the backend has it).
    container_option: str | None = None
    auto_create_option: str | None = None
    container_kind = "bucket"
    #: Bytes per upload part; the writer holds at most one part in memory.
    part_size: int = 8 * 1024 * 1024
    #: Read buffer size.
    chunk_size: int = 1024 * 1024
    #: Backends that gzip (S3, GCS) have a ``decode_gzip`` option: decode on read every object
    #: stored with ``Content-Encoding: gzip``, not only those they compressed (annotation
    #: only, as ``file_overwrite`` below; ``storages.core.compress``).
    decode_gzip: bool
    #: How often one read stream re-requests a transfer that broke off (``storages.core.resume``).
    read_resumes: int = READ_RESUMES
    #: Send the service's integrity check with writes and verify reads against the digest the
    #: service reports (``storages.core.checksums``); False only to measure what they cost.
    checksums: bool = True
    #: What ``open()`` returns: each backend names its own subclass (upstream's class name).
    file_class: type[BackendFile] = BackendFile
    #: Whether ``open()`` takes upstream's ``a``/``+`` modes (``storages.core.update``).
    update_modes: bool = False
    #: Upstream's exception class of this backend, if it had one: every ``OSError`` the
    #: storage raises is then an instance of it too (``storages.core.compat.as_legacy``).
    legacy_error: type[Exception] | None = None
    #: The overwrite policy: every backend declares an option named
    #: ``file_overwrite`` (annotation only: a class value here would shadow the
    #: backend's setting and default in option resolution).
    file_overwrite: bool

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = vars(cls).get("unsupported")
        if isinstance(declared, Mapping):  # a property (libcloud) validates its own tables
            cls.unsupported = unsupported_table(declared, cls.__qualname__)

    def _options_changed(self) -> None:
        self._local = threading.local()

    # -- upstream (django-storages 1.14) API: storages.core.compat -------------
    def get_default_settings(self) -> dict[str, Any]:
        """The resolved non-secret options. A subclass may override it as upstream's subclasses
        do (change a default, add a setting of its own): see ``storages.core.compat``."""
        return self.option_values()

    def _legacy_settings(self, unknown: dict[str, Any]) -> dict[str, Any]:
        if type(self).get_default_settings is BaseStorage.get_default_settings:
            return unknown
        return apply_default_settings(self, self.get_default_settings(), unknown)

    def _normalize_name(self, name: str) -> str:
        """The service key of ``name`` (upstream's name); ``SuspiciousFileOperation`` (a
        ``SuspiciousOperation``) for a name that would leave the root."""
        return self._key(name)

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

    def _require(self, module: str) -> Any:
        """Import one of this backend's SDK modules, or say which extra installs it."""
        return require(module, self.sdk_extra or "all")

    def capabilities(self) -> set[Capability]:
        return set(Capability) - set(self.unsupported)

    def endpoint(self) -> str:
        """Where the service is, for error messages (no credentials)."""
        return type(self).__name__

    # -- the bucket/container --------------------------------------------------
    def _option(self, name: str) -> Option:
        return next(opt for opt in self.options if opt.name == name)

    def container_setting(self) -> str:
        """The setting that names the bucket/container, for messages."""
        option = self._option(self.container_option) if self.container_option else None
        return (option.settings or (repr(option.name),))[0] if option else "(none)"

    def container_name(self) -> str:
        """The configured bucket/container; ImproperlyConfigured naming the setting if unset."""
        value = getattr(self, self.container_option, None) if self.container_option else None
        if not value:
            how = self._option(self.container_option).describe() if self.container_option else "it"
            raise ImproperlyConfigured(f"{type(self).__name__} needs a {self.container_kind}: set {how}")
        return str(value)

    def missing_container(self) -> ImproperlyConfigured:
        """The one error, on every backend, for a bucket/container that does not exist."""
        hint = "create it first"
        if self.auto_create_option:
            hint += f" or set {self._option(self.auto_create_option).settings[0]} = True"
        return ImproperlyConfigured(
            f"{type(self).__name__}: the {self.container_kind} {self.container_name()!r} "
            f"({self.container_setting()}) does not exist at {self.endpoint()}; {hint}")

    # -- errors ------------------------------------------------------------------
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        """Map an SDK error to a Django/Python one (see ``storages.core.errors``);
        backends override, handle what they know and end with ``super()``."""
        if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
            return SuspiciousFileOperation(f"{self.endpoint()} refuses the name {name!r}: {exc.strerror}")
        if isinstance(exc, (ConnectionError, TimeoutError, OSError, EOFError)):
            return ServiceUnavailable(f"{type(self).__name__} could not reach {self.endpoint()}: "
                                      f"{self.redact(str(exc))}")
        return None

    def unexpected_error(self, exc: BaseException, name: str) -> StorageError:
        """The exit for an error no ``translate_error`` knows: names the endpoint, never a secret."""
        kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
        return StorageError(f"{type(self).__name__} failed on {name!r} at {self.endpoint()}: "
                            f"{kind}: {self.redact(str(exc))}")

    def _secret_strings(self) -> list[str]:
        public = self.option_values()
        return [text for key, value in self.option_values(include_secrets=True).items()
                if key not in public for text in secret_strings(value)]

    def redact(self, text: str) -> str:
        """``text`` without any of this storage's secrets."""
        return redact(text, self._secret_strings())

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

    def _delete(self, key: str) -> bool:
        """Delete the file at ``key`` and say whether there was one (a service that cannot
        tell from the delete asks first). Services with real directories also remove an
        empty directory, and raise ``errors.not_empty`` for one that is not."""
        raise NotImplementedError

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        """Direct children (dirs, files) under ``prefix`` ('' or ending in '/'),
        following every page. May raise FileNotFoundError/NotADirectoryError when
        ``prefix`` is not a directory."""
        raise NotImplementedError

    def _is_dir(self, prefix: str) -> bool:
        """Whether anything lies under ``prefix`` (ends in '/'): object stores answer with one
        one-key listing, which also reports a missing bucket/container. Services with real
        directories keep this default: their ``_stat`` raises IsADirectoryError for one."""
        return False

    def _direct_upload(self, request: UploadRequest) -> DirectUpload:
        """Sign a grant for ``request`` (backends with the ``direct_uploads`` capability)."""
        raise NotImplementedError

    def direct_upload(self, name: str, *, content_type: str | None = None, max_size: int | None = None,
                      expire: int | timedelta | None = None, max_length: int | None = None) -> DirectUpload:
        """A grant for a client to upload ``name`` straight to the service (``storages.core.direct``).

        With overwriting off the name is first made free (``get_available_name``); the grant
        says which name it writes. ``content_type`` defaults to the one guessed from the name,
        ``expire`` to an hour. Signed locally: no request, except that existence check."""
        return issue(self, name, content_type=content_type, max_size=max_size, expire=expire,
                     max_length=max_length)

    def _start_upload(self, name: str, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        if content_type is None:
            content_type = mimetypes.guess_type(name)[0]
        with translated(self, name):
            return self._begin_upload(key, create_only=create_only, content_type=content_type)

    # -- Django Storage API --------------------------------------------------
    def _open(self, name: str, mode: str = "rb") -> BackendFile:
        if self._is_root(name):
            raise IsADirectoryError(errno.EISDIR, "the storage root is a directory", name)
        try:
            return self.file_class(self, name, mode)
        except FileNotFoundError:
            if mode in READ_MODES and self._has_entries(name):
                raise self._a_directory(name) from None
            raise

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

    # -- files and directories (see "Directories" above) ------------------------
    def exists(self, name: str) -> bool:
        """True for a file and for a directory."""
        try:
            self._stat_name(name)
        except FileNotFoundError:
            return False
        except IsADirectoryError:
            return True
        return True

    def _stat_name(self, name: str) -> ObjectInfo:
        """The file's metadata; IsADirectoryError for a directory, FileNotFoundError for nothing."""
        key = self._key(name)
        if self._is_root(name):
            self._has_entries(name)  # reaches the service: a missing bucket/container is reported
            raise self._a_directory(name)
        try:
            with translated(self, name):
                return self._stat(key)
        except FileNotFoundError:
            if self._has_entries(name):
                raise self._a_directory(name) from None
            raise

    def _is_file(self, key: str) -> bool:
        """Whether a file is at ``key``: for backends whose delete cannot tell."""
        try:
            with translated(self, key):
                self._stat(key)
        except (FileNotFoundError, IsADirectoryError):
            return False
        return True

    def _is_root(self, name: str) -> bool:
        return not clean_name(name)

    def _has_entries(self, name: str) -> bool:
        with translated(self, name):
            return self._is_dir(dir_prefix(self._key(name)))

    def _a_directory(self, name: str) -> IsADirectoryError:
        return IsADirectoryError(errno.EISDIR, f"a directory at {self.endpoint()}, not a file", name)

    def size(self, name: str) -> int:
        info = self._stat_name(name)
        if info.size is None:
            raise NotImplementedError(f"{type(self).__name__} cannot report sizes")
        return info.size

    def delete(self, name: str) -> None:
        """Delete a file or an empty real directory; never a directory's contents."""
        if not name:
            raise ValueError("The name must be given to delete().")
        key = self._key(name)
        if self._is_root(name):
            raise IsADirectoryError(errno.EISDIR, "the storage root is never deleted", name)
        with translated(self, name):
            if self._delete(key) or not self._is_dir(dir_prefix(key)):
                return
        raise not_empty(name, self.endpoint())

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        """The direct children ``(dirs, files)`` of a directory; ``([], [])`` for anything else."""
        prefix = dir_prefix(self._key(path))
        try:
            with translated(self, path):
                return self._list(prefix)
        except (FileNotFoundError, NotADirectoryError):
            return [], []

    def get_modified_time(self, name: str) -> datetime:
        return self._time(name, "modified")

    def get_created_time(self, name: str) -> datetime:
        return self._time(name, "created")

    def get_accessed_time(self, name: str) -> datetime:
        return self._time(name, "accessed")

    def _time(self, name: str, which: str) -> datetime:
        capability = Capability(f"{which}_time")
        if capability in self.unsupported:
            raise NotImplementedError(f"{type(self).__name__}: {self.unsupported[capability]}")
        value = getattr(self._stat_name(name), which)
        if value is None:
            raise NotImplementedError(f"{type(self).__name__} did not report a {which} time for {name!r}")
        return localize(value)


_django_deconstruct = BaseStorage.deconstruct


def _deconstruct_without_secrets(self: BaseStorage) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    """Like Django's ``deconstruct()`` (used by migrations), but from the keywords the storage
    resolved (positional arguments included) minus secrets: a migration never carries a secret."""
    path, _, _ = _django_deconstruct(self)
    return path, (), self._without_secrets(self._init_kwargs)


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
