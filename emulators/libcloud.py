"""Libcloud: its local driver over a temporary directory, and its S3 / Azure drivers
pointed at the S3 (moto) and Azure (Azurite) emulators.

:class:`LibcloudEmulator` is the ``libcloud`` emulator (``python -m emulators up
libcloud``): a fresh directory whose sub-directories are the local driver's
containers. The conformance targets ``local_target``, ``s3_target`` and
``azure_target`` give every test a fresh container on each of the three providers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Callable

from .base import Emulator, EmulatorUnavailable, needs, unique_name
from .seed import TreeNamespace

BACKEND = "storages.backends.apache_libcloud.LibCloudStorage"
DEFAULT_CONTAINER = "storages-dev"
PROVIDER = "libcloud.storage.types.Provider."


def options_for(provider: dict[str, Any], name: str = "default", **overrides: Any) -> dict[str, Any]:
    """``OPTIONS`` for LibCloudStorage with ``LIBCLOUD_PROVIDERS = {name: provider}``."""
    return {"provider_name": name, "providers": {name: provider}, **overrides}


def local_provider(base_path: str, container: str, **extra: Any) -> dict[str, Any]:
    """A provider entry for libcloud's LOCAL driver. ``ex_use_locking`` is off by default here:
    the driver's locks only guard its own unlink, and each leaves a lock file in the temp dir."""
    return {"type": PROVIDER + "LOCAL", "key": base_path, "bucket": container, "ex_use_locking": False,
            **extra}


def s3_provider(s3: Any, bucket: str) -> dict[str, Any]:
    """A provider entry for libcloud's S3 driver against a started ``emulators.s3.S3Emulator``."""
    from .s3 import ACCESS_KEY, REGION, SECRET_KEY

    return {"type": PROVIDER + "S3", "key": ACCESS_KEY, "secret": SECRET_KEY, "bucket": bucket,
            "host": s3.host, "port": s3.port, "secure": False, "region": REGION}


def azure_provider(azure: Any, container: str) -> dict[str, Any]:
    """A provider entry for libcloud's AZURE_BLOBS driver against a started Azurite."""
    if getattr(azure, "https", False):
        raise EmulatorUnavailable("libcloud targets the plain-http Azurite (AzureEmulator(https=False))")
    return {"type": PROVIDER + "AZURE_BLOBS", "key": azure.account_name, "secret": azure.account_key,
            "bucket": container, "host": azure.host, "port": azure.port, "secure": False}


class LibcloudNamespace(TreeNamespace):
    """A container of libcloud's LOCAL driver: a directory, read and written directly."""

    def __init__(self, emulator: Any, options: dict[str, Any]) -> None:
        super().__init__(emulator, options)
        provider = options["providers"][options.get("provider_name", "default")]
        if not str(provider.get("type", "")).endswith(".LOCAL"):
            raise ValueError("the libcloud emulator seeds and inspects only its LOCAL driver's containers")
        self.base = os.path.join(provider["key"], provider["bucket"])
        self.root = "/"

    def _local(self, path: str) -> str:
        return os.path.join(self.base, path.lstrip("/"))

    def _list(self, path: str) -> tuple[list[str], list[str]]:
        try:
            entries = list(os.scandir(self._local(path)))
        except FileNotFoundError:
            return [], []
        dirs = [e.name for e in entries if e.is_dir(follow_symlinks=False)]
        files = [e.name for e in entries if e.is_file(follow_symlinks=False) and not e.name.endswith(".lock")]
        return dirs, files

    def _mkdir(self, path: str) -> None:
        os.makedirs(self._local(path), exist_ok=True)

    def _write(self, path: str, data: bytes) -> None:
        with open(self._local(path), "wb") as f:
            f.write(data)

    def _read(self, path: str) -> bytes:
        with open(self._local(path), "rb") as f:
            return f.read()

    def _remove(self, path: str) -> None:
        os.remove(self._local(path))

    def _rmdir(self, path: str) -> None:
        os.rmdir(self._local(path))

    def describe(self) -> str:
        return f"local container {self.base!r}"


class LibcloudEmulator(Emulator):
    """Libcloud's LOCAL driver over a temporary directory (no server, no port)."""

    name = "libcloud"
    backend = BACKEND
    namespace_class = LibcloudNamespace

    def __init__(self) -> None:
        super().__init__()
        self.base_path: str | None = None

    def start(self) -> None:
        if self.started:
            return
        needs("libcloud", "fasteners", purpose="libcloud's local driver")
        self.base_path = tempfile.mkdtemp(prefix="storages-libcloud-")
        os.mkdir(os.path.join(self.base_path, DEFAULT_CONTAINER))
        self.started = True

    def stop(self) -> None:
        if self.base_path is not None:
            shutil.rmtree(self.base_path, ignore_errors=True)
            self.base_path = None
        self.started = False

    def reset(self) -> None:
        """Remove every container, then recreate the default one."""
        assert self.base_path is not None, "start() the emulator first"
        for entry in os.listdir(self.base_path):
            shutil.rmtree(os.path.join(self.base_path, entry), ignore_errors=True)
        os.mkdir(os.path.join(self.base_path, DEFAULT_CONTAINER))

    def health(self) -> bool:
        return self.started and self.base_path is not None and os.path.isdir(self.base_path)

    @property
    def endpoint(self) -> str:
        return f"file://{self.base_path}"

    def describe(self) -> str:
        return f"libcloud local driver over {self.base_path}"

    def new_container(self) -> str:
        assert self.base_path is not None, "start() the emulator first"
        name = unique_name("c")
        os.mkdir(os.path.join(self.base_path, name))
        return name

    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        assert self.base_path is not None, "start() the emulator first"
        return options_for(local_provider(self.base_path, DEFAULT_CONTAINER), **overrides)

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        assert self.base_path is not None, "start() the emulator first"
        return options_for(local_provider(self.base_path, self.new_container()), **overrides)


def local_target(get: Callable[[str], Any]) -> tuple[str, dict[str, Any]]:
    return BACKEND, get("libcloud").new_namespace()


def s3_target(get: Callable[[str], Any]) -> tuple[str, dict[str, Any]]:
    s3 = get("s3")
    bucket = s3.new_namespace()["bucket_name"]  # a fresh, empty bucket
    return BACKEND, options_for(s3_provider(s3, bucket), "s3")


def azure_target(get: Callable[[str], Any]) -> tuple[str, dict[str, Any]]:
    azure = get("azure")
    return BACKEND, options_for(azure_provider(azure, azure.new_container()), "azure")
