"""Plumbing for the upgrade tests: a django-storages 1.14 project's *settings* for a fresh
namespace on each backend's emulator. The tests themselves use only upstream's API."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import override_settings

#: backend -> (upstream module, storage class, file class), all upstream 1.14.6 names
UPSTREAM = {
    "s3": ("storages.backends.s3boto3", "S3Boto3Storage", "S3Boto3StorageFile"),
    "gcs": ("storages.backends.gcloud", "GoogleCloudStorage", "GoogleCloudFile"),
    "azure": ("storages.backends.azure_storage", "AzureStorage", "AzureStorageFile"),
    "dropbox": ("storages.backends.dropbox", "DropBoxStorage", "DropBoxFile"),
    "ftp": ("storages.backends.ftp", "FTPStorage", "FTPStorageFile"),
    "sftp": ("storages.backends.sftpstorage", "SFTPStorage", "SFTPStorageFile"),
    "libcloud": ("storages.backends.apache_libcloud", "LibCloudStorage", "LibCloudFile"),
}
ALL = tuple(UPSTREAM)


@dataclass
class Upstream:
    """One backend as a 1.14 project has it: its module, classes and Django settings."""

    backend: str
    settings: dict[str, Any]
    module: Any = field(init=False)
    storage_class: type = field(init=False)
    file_class: type = field(init=False)

    def __post_init__(self) -> None:
        module, storage, file = UPSTREAM[self.backend]
        self.module = importlib.import_module(module)
        self.storage_class = getattr(self.module, storage)
        self.file_class = getattr(self.module, file)


def _as_settings(storage: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The emulator namespace's OPTIONS as the Django settings that set them."""
    by_keyword = {kw: opt for opt in type(storage).options for kw in (opt.name, *opt.aliases)}
    return {by_keyword[key].settings[0]: value for key, value in options.items()}


@pytest.fixture
def upstream(emulated_storages, storages_backend, monkeypatch) -> Any:
    """The backend of this run (``@pytest.mark.storages``) configured through upstream's settings."""
    settings = _as_settings(emulated_storages.storage, emulated_storages.options)
    if storages_backend == "gcs":  # upstream's way to reach an emulator: the SDK's variable, real credentials
        from google.oauth2 import service_account

        monkeypatch.setenv("STORAGE_EMULATOR_HOST", settings.pop("GS_EMULATOR_HOST"))
        settings["GS_CREDENTIALS"] = service_account.Credentials.from_service_account_file(
            settings["GS_CREDENTIALS"])
    with override_settings(**settings):
        yield Upstream(storages_backend, settings)
