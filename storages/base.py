"""django-storages 1.14's ``storages.base.BaseStorage``: the base of custom storages.

Upstream's ``BaseStorage`` is a Django ``Storage`` whose settings come from
``get_default_settings()`` (a dict of name -> default, usually ``setting(...)``
values): each becomes an attribute unless the class already has one, and
constructor keywords override them; any other keyword is ``ImproperlyConfigured``.
Vendored and custom storages subclass it and implement Django's storage API
themselves, so it stays exactly that small class here.

Every backend of this package (built on ``storages.core.BaseStorage``) also counts
as one: ``isinstance(S3Storage(), storages.base.BaseStorage)`` is true, as upstream.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage

from storages.core.base import BaseStorage as _CoreStorage

__all__ = ["BaseStorage"]


class _IncludesBackends(type):
    """``isinstance``/``issubclass`` also hold for this package's backends."""

    def __instancecheck__(cls, instance: Any) -> bool:
        return cls.__subclasscheck__(type(instance))

    def __subclasscheck__(cls, subclass: type) -> bool:
        if type.__subclasscheck__(cls, subclass):
            return True
        return cls is BaseStorage and isinstance(subclass, type) and issubclass(subclass, _CoreStorage)


class BaseStorage(Storage, metaclass=_IncludesBackends):
    """A ``Storage`` configured from ``get_default_settings()`` and keyword arguments (upstream's base)."""

    def __init__(self, **settings: Any) -> None:
        default_settings = self.get_default_settings()
        for name, value in default_settings.items():
            if not hasattr(self, name):
                setattr(self, name, value)
        for name, value in settings.items():
            if name not in default_settings:
                raise ImproperlyConfigured(f"Invalid setting '{name}' for {type(self).__name__}")
            setattr(self, name, value)

    def get_default_settings(self) -> dict[str, Any]:
        """Setting name -> default; override to declare a storage's settings."""
        return {}
