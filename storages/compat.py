"""Mapping the settings of older Django versions onto current ones."""

from __future__ import annotations

from typing import Any

LEGACY_ALIASES = {"DEFAULT_FILE_STORAGE": "default", "STATICFILES_STORAGE": "staticfiles"}


def storages_from_legacy_settings(settings: Any) -> dict[str, Any] | None:
    """``STORAGES`` with SEED-era ``DEFAULT_FILE_STORAGE``/``STATICFILES_STORAGE`` applied.

    Only when the project did not set ``STORAGES`` itself and Django no longer
    reads the old names (5.1+); returns ``None`` when nothing needs to change.
    """
    import django

    if django.VERSION < (5, 1) or settings.is_overridden("STORAGES"):
        return None
    legacy = {alias: getattr(settings, name) for name, alias in LEGACY_ALIASES.items()
              if isinstance(getattr(settings, name, None), str)}
    if not legacy:
        return None
    merged = {alias: dict(entry) for alias, entry in settings.STORAGES.items()}
    for alias, backend in legacy.items():
        merged[alias] = {"BACKEND": backend}
    return merged
