"""Settings of the example site.

The launcher (``python -m example``, ``./dev demo``) starts the emulator and
passes the storage settings in ``EXAMPLE_SITE`` (JSON: see
``example.backends.SiteStorage``), plus the database path and secret key.
"""

from __future__ import annotations

import json
import os

from django.core.exceptions import ImproperlyConfigured

try:
    SITE = json.loads(os.environ["EXAMPLE_SITE"])
except KeyError:
    raise ImproperlyConfigured(
        "EXAMPLE_SITE is not set: start the example site with `./dev demo [backend]` "
        "or `python -m example [backend]`, which start the emulator first") from None

DEBUG = os.environ.get("EXAMPLE_DEBUG", "") == "1"
SECRET_KEY = os.environ["EXAMPLE_SECRET_KEY"]
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "storages",
    "example.gallery",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "example.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.contrib.messages.context_processors.messages",
    ]},
}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["EXAMPLE_DATABASE"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

# Every file goes through STORAGES: uploads to "default", collectstatic to "staticfiles".
STORAGES = SITE["storages"]
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
#: The STORAGES aliases whose files the site streams at MEDIA_URL / STATIC_URL (FTP and SFTP have
#: no web server; Dropbox's and libcloud's links change on every call, so static files go through us).
SERVED_STORAGES = SITE["served"]
