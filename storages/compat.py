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


def override_storages(storages: dict[str, Any], **other_settings: Any) -> Any:
    """``override_settings(STORAGES=storages, **other_settings)`` that keeps ``OPTIONS`` on Django 4.2.

    Django 4.2's ``override_settings(STORAGES=...)`` also sets the deprecated
    ``DEFAULT_FILE_STORAGE``/``STATICFILES_STORAGE`` on the override, and its
    storage handler then replaces those entries with ``{"BACKEND": ...}``, dropping
    their ``OPTIONS``. This undoes that for the override's lifetime. Usable as a
    context manager, a decorator, or with ``enable()``/``disable()``.
    """
    import django
    from django.test.utils import override_settings

    class _OverrideStorages(override_settings):
        def enable(self) -> None:
            super().enable()
            if django.VERSION < (5, 1):
                from django.conf import settings

                for legacy in LEGACY_ALIASES:
                    settings._wrapped.__dict__.pop(legacy, None)

    return _OverrideStorages(STORAGES=storages, **other_settings)
