"""The one exit for errors: what may leave a public Storage method, and how SDK errors get there.

Every call into a backend's SDK runs inside :func:`translated`. An exception that
is already one of :data:`EXITS` (Django's and Python's own errors, plus the two
below) passes untouched; any other goes to the backend's
``translate_error(exc, name)``, which maps what it knows; whatever it does not map
becomes the backend's generic ``unexpected_error`` (a :class:`StorageError` naming
the endpoint, with secrets redacted). The original is always chained with ``from``.

The messages shared by every backend live here too: a directory that ``delete()``
will not remove (:func:`not_empty`). The missing bucket/container error is
``BaseStorage.missing_container()`` (it needs the storage's settings).
"""

from __future__ import annotations

import errno
import functools
from contextlib import contextmanager
from typing import Any, Iterator, Mapping, Protocol

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation


class ServiceUnavailable(ConnectionError):
    """The storage service could not be reached or broke off; the message names the endpoint."""


class StorageError(OSError):
    """The service failed or refused an operation, and no more specific error says how.
    The message names the endpoint and never carries a secret."""


class ChecksumMismatch(StorageError):
    """The bytes received differ from the digest the service stored: damaged in transit."""


class ObjectChanged(StorageError):
    """The object was replaced while it was being read (its size, ETag or version changed
    between two requests of one read): the read stops rather than splice two objects."""


#: What may leave a public Storage method. Everything else is translated.
EXITS: tuple[type[BaseException], ...] = (
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    ImproperlyConfigured,
    SuspiciousFileOperation,
    NotImplementedError,
    ServiceUnavailable,
    StorageError,
)


class Translator(Protocol):
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None: ...

    def unexpected_error(self, exc: BaseException, name: str) -> BaseException: ...


@contextmanager
def translated(translator: Translator, name: str = "") -> Iterator[None]:
    """Run a block; any exception not in EXITS leaves translated, chained to the original."""
    try:
        yield
    except EXITS as exc:
        legacy = getattr(translator, "legacy_error", None)
        if legacy is None or not isinstance(exc, OSError) or isinstance(exc, legacy):
            raise
        raise as_legacy(exc, legacy) from exc.__cause__
    except Exception as exc:
        new = translator.translate_error(exc, name)
        if not isinstance(new, EXITS):
            new = translator.unexpected_error(exc, name)
        legacy = getattr(translator, "legacy_error", None)
        if legacy is not None and isinstance(new, OSError):
            new = as_legacy(new, legacy)  # upstream's exception class too
        raise new from exc


def as_legacy(error: BaseException, legacy: type[Exception]) -> BaseException:
    """``error`` (an ``OSError`` a storage raises) as an instance of a subclass of both its own
    class and ``legacy``, the backend's upstream exception class: ``except legacy`` in old code
    still catches it, ``except FileNotFoundError`` in new code too. Message, attributes, cause
    and traceback are kept."""
    cls = _legacy_class(type(error), legacy)
    if isinstance(error, OSError) and error.errno is not None:
        args: tuple[Any, ...] = (error.errno, error.strerror, *([error.filename] if error.filename else []))
    else:
        args = error.args
    flavoured = cls(*args)
    flavoured.__dict__.update(error.__dict__)
    flavoured.__cause__ = error.__cause__
    flavoured.__suppress_context__ = error.__suppress_context__
    return flavoured.with_traceback(error.__traceback__)


@functools.cache
def _legacy_class(base: type[BaseException], legacy: type[Exception]) -> type[BaseException]:
    return type(base.__name__, (base, legacy), {
        "__module__": base.__module__, "__qualname__": base.__qualname__,
        "__reduce__": lambda self: (_rebuild, (base, legacy, *base.__reduce__(self)[1:])),
    })


def _rebuild(base: type[BaseException], legacy: type[Exception], args: tuple[Any, ...],
             state: dict[str, Any] | None = None) -> BaseException:
    error = _legacy_class(base, legacy)(*args)
    error.__dict__.update(state or {})
    return error


def not_empty(name: str, where: str) -> IsADirectoryError:
    """``delete()`` of a directory that is not empty: nothing is deleted, ever recursively."""
    return IsADirectoryError(
        errno.EISDIR, f"{name!r} at {where} is a directory that is not empty; delete() removes files "
        "and empty directories, never a directory's contents")


#: Keys under which a dict (or a ``k=v;k=v`` connection string) holds a secret.
SECRET_WORDS = ("pass", "secret", "token", "key", "credential", "signature", "sig")


def secret_strings(value: Any) -> Iterator[str]:
    """The secret strings inside a secret option's value: the string itself and, for
    connection strings and dicts, the values under secret-looking keys."""
    if isinstance(value, str):
        yield value
        for part in value.split(";"):
            key, sep, item = part.partition("=")
            if sep and item and _is_secret_key(key):
                yield item
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if _is_secret_key(str(key)):
                yield from secret_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from secret_strings(item)


def _is_secret_key(key: str) -> bool:
    return any(word in key.lower() for word in SECRET_WORDS)


def redact(text: str, secrets: Iterator[str] | list[str]) -> str:
    """``text`` with every secret (of 4 characters or more) replaced by ``***``."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
