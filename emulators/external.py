"""The external route: services already running elsewhere (emulators another process
started, service containers of a CI, or real clouds), configured from environment
variables (docs/containers.md lists them per service).

Each run works under a unique prefix, ``$STORAGE_RUN_ID`` or ``storages-test-<random>``:
every test's namespace is a new bucket/container named ``<run id>-<n>`` (S3, GCS, Azure)
or a folder ``<root>/<run id>/<n>`` (Dropbox, FTP, SFTP), and ``stop()`` deletes all of
them, their contents included, whatever the tests did. An endpoint that is not on this
machine is a live service: it is used only when live runs are allowed (``--storage-live``
or ``$STORAGE_LIVE=1``), otherwise the emulator is unavailable and says so.
"""

from __future__ import annotations

import ipaddress
import itertools
import os
import socket
import uuid
from typing import Any

from .base import Emulator, EmulatorUnavailable
from .modes import native_only
from .registry import emulator_class

RUN_ID_ENV = "STORAGE_RUN_ID"
#: service -> the environment variables the external route reads (docs/containers.md).
VARIABLES: dict[str, tuple[str, ...]] = {
    "s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION",
           "AWS_ENDPOINT_URL_S3"),
    "gcs": ("GOOGLE_CLOUD_PROJECT", "STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS"),
    "azure": ("AZURE_STORAGE_CONNECTION_STRING",),
    "dropbox": ("DROPBOX_OAUTH2_TOKEN", "DROPBOX_API_ENDPOINT", "STORAGES_DROPBOX_ROOT"),
    "ftp": ("FTP_STORAGE_LOCATION",),
    "sftp": ("SFTP_HOST", "SFTP_PORT", "SFTP_USERNAME", "SFTP_PASSWORD", "SFTP_KEY_FILE", "SFTP_KNOWN_HOSTS",
             "SFTP_ROOT"),
}


def run_id() -> str:
    """This run's prefix: $STORAGE_RUN_ID, else ``storages-test-`` and 10 random hex digits;
    an xdist worker adds its name (``-gw0``), so workers never share a namespace."""
    value = os.environ.get(RUN_ID_ENV) or f"storages-test-{uuid.uuid4().hex[:10]}"
    if not value.replace("-", "").isalnum() or value != value.lower() or len(value) > 40:
        raise EmulatorUnavailable(
            f"{RUN_ID_ENV}={value!r}: use lowercase letters, digits and '-' (at most 40)")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{value}-{worker}" if worker.isalnum() else value


def is_local(host: str | None) -> bool:
    """Whether ``host`` is this machine (loopback)."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def external_env(emulator: Emulator) -> dict[str, str]:
    """The environment that points ``--storage-emulators=external`` at a started emulator
    (what ``python -m emulators up --env`` prints)."""
    try:
        env = emulator.env()
    except EmulatorUnavailable:
        env = {}
    if emulator.name == "dropbox":
        env = {"DROPBOX_OAUTH2_TOKEN": emulator.token, "DROPBOX_API_ENDPOINT": emulator.endpoint}  # type: ignore[attr-defined]
    return {key: value for key, value in env.items() if key in VARIABLES.get(emulator.name, ())}


class ExternalService:
    """Mixin for an emulator class: use a running service instead of starting one."""

    name: str
    started: bool
    reset = native_only("an external service is never wiped; each test gets a new namespace")

    def _external_setup(self, live: bool) -> None:
        self.allow_live = live
        #: Whether the service is not on this machine (set by start()).
        self.live = False
        self.run_id = run_id()
        self.created: list[str] = []
        self._numbers = itertools.count(1)

    def require(self, *names: str) -> dict[str, str]:
        missing = [name for name in names if not os.environ.get(name)]
        if missing:
            raise EmulatorUnavailable(
                f"external {self.name}: set {', '.join(missing)} (see docs/containers.md; "
                "`python -m emulators up --env` prints them for local emulators)")
        return {name: os.environ[name] for name in names}

    def gate(self, host: str | None, port: int, where: str) -> None:
        """Refuse a service that is not on this machine unless live runs are allowed, then
        check that it accepts connections (no request is made before both pass)."""
        self.live = not is_local(host)
        if self.live and not self.allow_live:
            raise EmulatorUnavailable(
                f"external {self.name} at {where} is a live service, not on this machine: pass "
                "--storage-live (or set STORAGE_LIVE=1) to run the suite there; it creates and deletes "
                f"its own {self.namespace_kind} under {self.run_id!r}")
        try:
            socket.create_connection((host or "", port), timeout=10).close()
        except OSError as exc:
            raise EmulatorUnavailable(f"external {self.name}: cannot connect to {where} ({exc})") from exc

    namespace_kind = "buckets"

    def next_name(self) -> str:
        return f"{self.run_id}-{next(self._numbers):04d}"

    def next_folder(self, base: str) -> str:
        """A new folder ``<base>/<run id>/<n>``; stop() deletes ``<base>/<run id>``."""
        run = f"{base.rstrip('/')}/{self.run_id}"
        if not self.created:
            self.created.append(run)
        return f"{run}/{next(self._numbers)}"

    def stop(self, **_: Any) -> None:
        """Delete every namespace this run created (contents first); idempotent."""
        errors = []
        while self.created:
            namespace = self.created.pop()
            try:
                self.delete_namespace(namespace)
            except Exception as exc:  # keep deleting the others; report them all
                errors.append(f"{namespace}: {type(exc).__name__}: {exc}")
        self.started = False
        if errors:
            raise RuntimeError(f"external {self.name}: could not delete " + "; ".join(errors))

    def delete_namespace(self, namespace: str) -> None:
        raise NotImplementedError


def external_emulator(name: str, *, live: bool = False) -> Any:
    """The external emulator for ``name``. Libcloud's local driver is a directory (native);
    its S3/Azure targets use the external S3/Azure."""
    from .external_services import EXTERNAL

    if name not in EXTERNAL:
        return emulator_class(name)()
    return EXTERNAL[name](live)
