"""The one place where a backend's SDK errors become Django/Python errors.

A backend implements ``translate_error(exc, name)`` returning the exception to
raise instead (or ``None`` to let ``exc`` through); :func:`translated` applies it
and chains the original with ``from``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Protocol

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation

# Errors that already speak Django/Python and pass through untouched.
PASS_THROUGH = (
    FileNotFoundError,
    FileExistsError,
    PermissionError,
    IsADirectoryError,
    NotADirectoryError,
    ImproperlyConfigured,
    SuspiciousFileOperation,
    ValueError,
    TypeError,
)


class Translator(Protocol):
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None: ...


class ServiceUnavailable(ConnectionError):
    """The storage service could not be reached; the message names the endpoint."""


@contextmanager
def translated(translator: Translator, name: str = "") -> Iterator[None]:
    """Run a block, translating SDK errors through ``translator.translate_error``."""
    try:
        yield
    except PASS_THROUGH:
        raise
    except Exception as exc:
        new = translator.translate_error(exc, name)
        if new is None or new is exc:
            raise
        raise new from exc
