"""django-storages 1.14's ``storages.utils``, with upstream's semantics.

These are the helpers custom storages and vendored backends import. They keep
upstream's behaviour exactly (``clean_name`` normalises and does not refuse ``..``;
``safe_join`` raises ``ValueError``), because code written against them relies on
it. The backends themselves validate names with ``storages.core.names``, which is
stricter: absolute names, ``..`` and control characters are refused.
"""

from __future__ import annotations

import os
import pathlib
import posixpath
from typing import Any, Iterable

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.utils import FileProxyMixin, validate_file_name
from django.utils.encoding import force_bytes

from storages.core.base import _truncate

__all__ = [
    "ReadBytesWrapper", "check_location", "clean_name", "get_available_overwrite_name", "is_seekable",
    "lookup_env", "safe_join", "setting", "to_bytes",
]


def to_bytes(content: Any) -> bytes | bytearray:
    """``force_bytes`` that passes a bytearray through."""
    if isinstance(content, bytearray):
        return content
    return force_bytes(content)


def setting(name: str, default: Any = None) -> Any:
    """The Django setting ``name``, or ``default`` when it is not set."""
    from django.conf import settings

    return getattr(settings, name, default)


def clean_name(name: str | os.PathLike[str]) -> str:
    """Normalise a name: POSIX separators, ``.``/``..`` resolved, a trailing slash kept, '' for the root."""
    if isinstance(name, pathlib.PurePath):
        name = str(name)
    cleaned = posixpath.normpath(name).replace("\\", "/")
    if name.endswith("/") and not cleaned.endswith("/"):
        cleaned += "/"
    return "" if cleaned == "." else cleaned


def safe_join(base: str, *paths: str) -> str:
    """Join ``paths`` under ``base`` and normalise; ``ValueError`` if the result leaves ``base``.
    The result has no leading slash (an S3-style key)."""
    base_path = base.rstrip("/")
    final_path = base_path + "/"
    for path in paths:
        joined = posixpath.normpath(posixpath.join(final_path, path))
        if path.endswith("/") or joined + "/" == final_path:
            joined += "/"
        final_path = joined
    if final_path == base_path:
        final_path += "/"
    if not final_path.startswith(base_path) or final_path[len(base_path)] != "/":
        raise ValueError("the joined path is located outside of the base path component")
    return final_path.lstrip("/")


def check_location(storage: Any) -> None:
    """``ImproperlyConfigured`` if ``storage.location`` starts with a slash."""
    if storage.location.startswith("/"):
        raise ImproperlyConfigured(
            f"{type(storage).__name__}.location cannot begin with a leading slash. Found "
            f"'{storage.location}'. Use '{storage.location.lstrip('/')}' instead.")


def lookup_env(names: Iterable[str]) -> str | None:
    """The first of the environment variables ``names`` that is set and not empty."""
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def get_available_overwrite_name(name: str, max_length: int | None) -> str:
    """``name`` itself (it may be overwritten), shortened to ``max_length`` the way Django
    shortens names; ``SuspiciousFileOperation`` for a traversal or if nothing of the name is left."""
    dir_name, file_name = os.path.split(name)
    if ".." in pathlib.PurePath(dir_name).parts:
        raise SuspiciousFileOperation(f"Detected path traversal attempt in '{dir_name}'")
    validate_file_name(file_name, allow_relative_path=True)
    name = _truncate(name, max_length)
    validate_file_name(name, allow_relative_path=True)
    return name


def is_seekable(file_object: Any) -> bool:
    """Whether ``file_object`` can seek (an object without ``seekable()`` is taken to)."""
    return not hasattr(file_object, "seekable") or file_object.seekable()


class ReadBytesWrapper(FileProxyMixin):
    """A file whose ``read()`` always returns bytes (str is encoded with ``encoding``, the
    file's own encoding, or UTF-8)."""

    def __init__(self, file: Any, encoding: str | None = None) -> None:
        self.file = file
        self._encoding = encoding or getattr(file, "encoding", None) or "utf-8"

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        content = self.file.read(*args, **kwargs)
        if not isinstance(content, bytes):
            content = content.encode(self._encoding)
        return content

    def close(self) -> None:
        self.file.close()

    def readable(self) -> bool:
        return True
