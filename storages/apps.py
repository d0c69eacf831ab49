"""Django app config: honours the pre-4.2 DEFAULT_FILE_STORAGE/STATICFILES_STORAGE settings."""

from __future__ import annotations

import warnings

from django.apps import AppConfig


class StoragesConfig(AppConfig):
    name = "storages"
    verbose_name = "Storages"

    def ready(self) -> None:
        from django.conf import settings

        from .compat import storages_from_legacy_settings

        merged = storages_from_legacy_settings(settings)
        if merged is not None:
            warnings.warn(
                "DEFAULT_FILE_STORAGE/STATICFILES_STORAGE are applied to STORAGES by 'storages'; "
                "set STORAGES directly (Django 4.2+).",
                DeprecationWarning,
                stacklevel=2,
            )
            settings.STORAGES = merged
