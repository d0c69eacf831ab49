"""Importing an optional SDK with an install hint."""

from __future__ import annotations

import importlib
from types import ModuleType

from django.core.exceptions import ImproperlyConfigured


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise ``ImproperlyConfigured`` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"This storage backend needs the {module!r} package, which could not be "
            f"imported ({exc}). Install it with: pip install 'django-storages[{extra}]'"
        ) from exc
