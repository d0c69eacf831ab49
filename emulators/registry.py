"""Which emulators exist, and how each conformance target gets a fresh storage.

A *target* is one storage configuration the conformance suite runs against
(``s3``, ``libcloud-local``, ...). A *selection name* (``--storage-backend``)
picks every target of that backend. Emulators are shared between targets that
need the same service (libcloud over S3 reuses the S3 emulator).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

#: selection name -> "module:Class" of its emulator.
EMULATORS: dict[str, str] = {
    "s3": "emulators.s3:S3Emulator",
    "gcs": "emulators.gcs:GCSEmulator",
    "azure": "emulators.azure:AzureEmulator",
    "dropbox": "emulators.dropbox:DropboxEmulator",
    "ftp": "emulators.ftp:FTPEmulator",
    "sftp": "emulators.sftp:SFTPEmulator",
    "libcloud": "emulators.libcloud:LibcloudEmulator",
}


@dataclass(frozen=True)
class Target:
    """One storage configuration for the conformance suite."""

    id: str
    selection: str
    #: "module:function" taking a started-emulator getter and returning
    #: (backend dotted path, OPTIONS) for a fresh namespace.
    factory: str


#: Conformance targets, in run order. Filled in as backends land.
TARGETS: list[Target] = [
    Target("s3", "s3", "emulators.s3:conformance_target"),
    Target("gcs", "gcs", "emulators.gcs:conformance_target"),
    Target("azure", "azure", "emulators.azure:conformance_target"),
    Target("dropbox", "dropbox", "emulators.dropbox:conformance_target"),
    Target("ftp", "ftp", "emulators.ftp:conformance_target"),
    Target("sftp", "sftp", "emulators.sftp:conformance_target"),
    Target("libcloud-local", "libcloud", "emulators.libcloud:local_target"),
    Target("libcloud-s3", "libcloud", "emulators.libcloud:s3_target"),
    Target("libcloud-azure", "libcloud", "emulators.libcloud:azure_target"),
]


def load(path: str) -> Any:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def available_selections() -> list[str]:
    """Selection names whose emulator module exists in this checkout."""
    return [name for name, path in EMULATORS.items() if _module_exists(path)]


def emulator_class(name: str) -> type:
    return load(EMULATORS[name])


def targets_for(selections: list[str]) -> list[Target]:
    return [t for t in TARGETS if t.selection in selections and _module_exists(t.factory)]


def _module_exists(path: str) -> bool:
    module = path.partition(":")[0]
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return False
        raise
    return True

