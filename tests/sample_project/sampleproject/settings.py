"""A downstream Django project that stores uploads with django-storages (its own settings)."""

import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "sample-project-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "storages",
    "emulators.contract",  # the conformance suite's model examples (pytest --pyargs emulators.contract)
    "gallery",
]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "sampleproject.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
# In production these would be S3, GCS, ...; the tests point them at emulators.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": tempfile.gettempdir()}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Starts the emulators the tests name once, before `manage.py test --parallel` forks workers.
TEST_RUNNER = "emulators.django.EmulatedStoragesRunner"
