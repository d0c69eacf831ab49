"""Django settings for this repository's own tests."""

from __future__ import annotations

import django
from django.conf import settings

# A downstream project with its own settings: tests/toolkit runs it in subprocesses.
collect_ignore = ["tests/sample_project"]


def pytest_configure(config):
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="storages-tests",
        USE_TZ=True,
        TIME_ZONE="America/Chicago",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.staticfiles",
            "storages",
            "emulators.contract",
            "tests.testapp",
        ],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        STATIC_URL="/static/",
        MEDIA_URL="/media/",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    )
    django.setup()
