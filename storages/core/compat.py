"""What django-storages 1.14 code expects of every backend, kept in one place.

- :class:`BackendFile`: the class ``open()`` returns. Each backend subclasses it
  once under upstream's name (``S3File``, ``GoogleCloudFile``, ``AzureStorageFile``,
  ``DropBoxFile``, ``FTPStorageFile``, ``SFTPStorageFile``, ``LibCloudFile``), so
  ``isinstance`` checks and direct construction in upstream's argument order keep
  working; a backend with ``update_modes`` also opens upstream's ``a``/``+`` modes
  (``storages.core.update``).
- A backend whose upstream raised its own exception class (``FTPStorageException``,
  ``DropboxStorageException``) names it as ``legacy_error``; every ``OSError`` leaving
  the core's one exit is then also an instance of it (``storages.core.errors.as_legacy``),
  so ``except FTPStorageException`` still catches.
- :func:`apply_default_settings`: a subclass that overrides upstream's
  ``get_default_settings()`` (to change defaults or add settings of its own) is
  honoured with upstream's precedence.
"""

from __future__ import annotations

import io
from typing import Any

from .files import RemoteFile
from .options import _MISSING, _class_attribute
from .update import UpdateStream, check_update_mode, is_update_mode


def upstream_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, str, str, dict[str, Any]]:
    """``(storage, name, mode, other keywords)`` from a File class's arguments in any of
    upstream's orders: ``(name, mode, storage)``, ``(name, storage, mode)``, ``(name, storage)``,
    and ours, ``(storage, name, mode)``. The storage is the argument that is not a str."""
    rest = dict(kwargs)
    storage = rest.pop("storage", None)
    texts = []
    for arg in args:
        if isinstance(arg, str):
            texts.append(arg)
        elif storage is None:
            storage = arg
        else:
            raise TypeError(f"unexpected argument {arg!r}: give a name, a mode and a storage")
    name, mode = rest.pop("name", None), rest.pop("mode", None)
    for text in texts:
        if name is None:
            name = text
        elif mode is None:
            mode = text
        else:
            raise TypeError(f"unexpected argument {text!r}: give a name, a mode and a storage")
    if storage is None or name is None:
        raise TypeError("a storage file needs a name and its storage")
    return storage, name, mode or "rb", rest


class BackendFile(RemoteFile):
    """A backend's file (see the module docstring): a :class:`RemoteFile` under upstream's
    class name, constructed in upstream's argument order or ours."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        storage, name, mode, options = upstream_arguments(args, kwargs)
        super().__init__(storage, name, mode, **options)

    def _check_mode(self, storage: Any, mode: str) -> None:
        if not is_update_mode(mode):
            super()._check_mode(storage, mode)
            return
        check_update_mode(mode)
        if not getattr(storage, "update_modes", False):
            raise ValueError(
                f"{type(storage).__name__} opens files in 'rb', 'r', 'wb' or 'w' mode, not {mode!r}: the "
                "service cannot change a stored file in place. Read the file, then save() the new content.")

    def _open_file(self) -> Any:
        if not is_update_mode(self.mode):
            return super()._open_file()
        self._raw = stream = UpdateStream(self._storage, self.name, self.mode)  # type: ignore[assignment]
        if "b" not in self.mode:
            return io.TextIOWrapper(stream, encoding="utf-8", write_through=True)
        return stream

    def write(self, content: Any) -> int:
        """Write ``content``; as upstream, str and bytes are taken in any mode (str is UTF-8
        encoded in a binary mode, bytes go straight to the file in a text mode)."""
        if "b" not in self.mode and isinstance(content, (bytes, bytearray, memoryview)):
            self.file.flush()
            return self.file.buffer.write(content)
        if "b" in self.mode and isinstance(content, str):
            content = content.encode("utf-8")
        return self.file.write(content)

    @property
    def size(self) -> int:
        if isinstance(self._raw, UpdateStream):
            return self._raw.size
        return super().size

    def abort(self) -> None:
        if isinstance(self._raw, UpdateStream):
            self._raw.abort()
        else:
            super().abort()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and isinstance(self._raw, UpdateStream):
            self.abort()
        else:
            super().__exit__(exc_type, exc, tb)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.name} ({self.mode})>"


def apply_default_settings(storage: Any, defaults: dict[str, Any], unknown: dict[str, Any]) -> dict[str, Any]:
    """Apply what a subclass's ``get_default_settings()`` override returned, with upstream's
    precedence (constructor keyword > class attribute > this value); return the keywords that
    are still unknown.

    A key naming an option replaces that option's setting/environment/default value; any
    other key is a setting of the subclass's own, set as an attribute (a keyword of that
    name is then accepted by the constructor, as upstream)."""
    cls = type(storage)
    by_keyword = {kw: opt for opt in cls.options for kw in (opt.name, *opt.aliases)}
    given = set(storage._init_kwargs)
    unknown = dict(unknown)
    for key, value in defaults.items():
        opt = by_keyword.get(key)
        if opt is None:
            if key in unknown:
                setattr(storage, key, unknown.pop(key))
            elif not hasattr(cls, key):
                setattr(storage, key, value)
            continue
        if given & {opt.name, *opt.aliases} or _class_attribute(cls, opt) is not _MISSING:
            continue
        current = getattr(storage, opt.name, _MISSING)
        if current is value or (type(current) is type(value) and _equal(current, value)):
            continue
        if opt.convert is not None and value is not None:
            value = opt.convert(value)
        setattr(storage, opt.name, value)
    return unknown


def _equal(left: Any, right: Any) -> bool:
    try:
        return bool(left == right)
    except Exception:  # an object whose == fails is simply not equal
        return False
