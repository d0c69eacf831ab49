"""The docker route: each emulator runs as its service of docker-compose.test.yml, in a
container started through testcontainers-python.

A container emulator is the native emulator class with a different ``start``/``stop``:
the service's image, command and environment come from the compose file; with host
networking (an engine without a bridge) the service listens on a free loopback port
given through ``${STORAGES_<NAME>_PORT}``, otherwise its port is published on a free
host port. ``start`` returns once the emulator's own ``health()`` passes. Everything
else (``storage_options``, ``new_namespace``, ``client``, ``reset``) is the native code,
talking to the container. What only an in-process emulator can do (fault hooks,
recorded commands, the Dropbox fake's store) raises ``NativeOnly``.

Every container is labelled with its owner (host, pid, process start time). ``stop``
removes it; on Ctrl-C pytest and the CLI stop the session; when the owner is killed,
a watchdog process (emulators/docker_engine.py) removes what it left, and the next
run sweeps containers whose owner is gone. testcontainers' own reaper
(Ryuk) is switched off unless $TESTCONTAINERS_RYUK_DISABLED says otherwise: its image
comes from Docker Hub.
"""

from __future__ import annotations

import http.client
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .azure import AzureEmulator
from .base import EmulatorError, free_port, wait_until
from .compose import ServiceSpec, service
from .docker_engine import (
    OWNER_LABEL,
    SERVICE_LABEL,
    docker_client,
    engine_url,
    ensure_image,
    ensure_watchdog,
    owner_id,
    remove_container,
    stop_watchdogs,
    sweep_orphans,
    uses_host_network,
)
from .dropbox import ACCESS_TOKEN, DropboxEmulator
from .ftp import FTPEmulator
from .gcs import GCSEmulator
from .modes import native_only
from .registry import emulator_class
from .s3 import DEFAULT_BUCKET, S3Emulator
from .sftp import SFTPEmulator


class ContainerService:
    """Mixin for an emulator class: run its compose service in a container instead."""

    name: str
    host: str
    port: int | None
    service_port: int | None
    front: Any
    started: bool
    #: Seconds to wait for the emulator's health() once the container runs.
    start_timeout = 60.0

    def _container_setup(self) -> None:
        self._container: Any = None
        self.spec: ServiceSpec | None = None
        self._scratch: Path | None = None
        #: Host networking (the service binds a free loopback port) or a published port.
        self.host_network = True

    def variables(self) -> dict[str, str]:
        """Compose variables of this service besides its port and bind address."""
        return {}

    def mounts(self) -> dict[str, str]:
        """Host directory -> path in the container, mounted read-write."""
        return {}

    def extra_args(self) -> list[str]:
        return []

    def fixed_ports(self) -> list[int]:
        """Ports published on the same host port when not on host networking (FTP passive)."""
        return []

    def after_container_start(self) -> None:
        """Hook run once the service is healthy."""

    def scratch(self) -> Path:
        """A host temp directory of this emulator, removed by stop()."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix=f"storages-{self.name}-container-"))
        return self._scratch

    def start(self) -> None:
        if self.started:
            return
        from testcontainers.core.config import testcontainers_config
        from testcontainers.core.container import DockerContainer

        os.environ.setdefault("DOCKER_HOST", engine_url())  # testcontainers reads it
        if "TESTCONTAINERS_RYUK_DISABLED" not in os.environ:
            testcontainers_config.ryuk_disabled = True  # our watchdog reaps; Ryuk's image is on Docker Hub
        client = docker_client()
        sweep_orphans(client)
        self.host_network = host_network = uses_host_network(client)
        port = free_port() if host_network else None
        variables = {"STORAGES_BIND": "127.0.0.1" if host_network else "0.0.0.0", **self.variables()}
        if port:
            variables[f"STORAGES_{self.name.upper()}_PORT"] = str(port)
        self.spec = spec = service(self.name, variables)
        ensure_image(client, spec)
        owner = owner_id()
        container = DockerContainer(spec.image, command=spec.command + self.extra_args(),
                                    env=spec.environment)
        kwargs: dict[str, Any] = {"labels": {OWNER_LABEL: owner, SERVICE_LABEL: self.name}}
        if host_network:
            kwargs["network_mode"] = "host"
        else:
            container.with_bind_ports(spec.port, None)
            for fixed in self.fixed_ports():
                container.with_bind_ports(fixed, fixed)
        if hasattr(os, "getuid"):
            kwargs["user"] = f"{os.getuid()}:{os.getgid()}"  # files in mounts stay ours
        container.with_kwargs(**kwargs)
        for host_dir, path in self.mounts().items():
            container.with_volume_mapping(host_dir, path, "rw")
        ensure_watchdog(owner)
        self._container = container
        try:
            container.start()
            self.host = "127.0.0.1" if host_network else container.get_container_host_ip()
            self.port = port or int(container.get_exposed_port(spec.port))
            self.started = True
            if not wait_until(lambda: not self._running() or self.health(), self.start_timeout, 0.1) \
                    or not self._running():
                raise EmulatorError(f"the {self.name} container ({spec.image}) did not become healthy on "
                                    f"{self.host}:{self.port} within {self.start_timeout:.0f}s; its log:\n"
                                    + self.container_log()[-3000:])
            self.after_container_start()
        except BaseException:
            self.stop()
            raise

    def _running(self) -> bool:
        wrapped = self._container.get_wrapped_container()
        wrapped.reload()
        return wrapped.status == "running"

    def container_log(self) -> str:
        if self._container is None or self._container._container is None:
            return ""
        out, err = self._container.get_logs()
        return (out + err).decode(errors="replace")

    def stop(self, **_: Any) -> None:
        front, self.front = self.front, None
        if front is not None:
            front.stop()
        self.service_port = None
        container, self._container = self._container, None
        if container is not None and container._container is not None:
            remove_container(container.get_wrapped_container())  # already gone (the watchdog's) is fine
        self.started = False
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def describe(self) -> str:
        image = self.spec.image if self.spec else "?"
        return f"{self.name} emulator in a container ({image}) at {self.endpoint}"  # type: ignore[attr-defined]


class S3Container(ContainerService, S3Emulator):
    """moto's server in the compose file's ``motoserver/moto`` image, behind the same
    observation proxy as the native emulator: requests are recorded, faults injected, and
    presigned URLs and POST policies checked as S3 checks them (moto accepts any)."""

    def __init__(self) -> None:
        super().__init__()
        self._container_setup()

    def after_container_start(self) -> None:
        self.open_front()
        self._create_bucket(DEFAULT_BUCKET)



class GCSContainer(ContainerService, GCSEmulator):
    """fake-gcs-server in the compose file's ``fsouza/fake-gcs-server`` image."""

    def __init__(self) -> None:
        super().__init__()
        self._container_setup()
        self.program = "fake-gcs-server"

    def after_container_start(self) -> None:
        self._workdir = self.scratch()
        self.front = self._new_front()
        self.after_start()

    def _public_host(self) -> str:
        """The compose command gives fake-gcs-server its own address as the public host."""
        return f"{self.host}:{self.service_port}"


class AzureContainer(ContainerService, AzureEmulator):
    """Azurite's blob service in the compose file's Azurite image (plain HTTP)."""

    def __init__(self) -> None:
        super().__init__()
        self._container_setup()

    def after_container_start(self) -> None:
        self.after_start()


class DropboxContainer(ContainerService, DropboxEmulator):
    """This project's Dropbox fake in the ``django-storages/emulators`` image. With host
    networking it also serves HTTPS, with a certificate made here (``ca_bundle``, ``env()``)."""

    store = native_only("the fake's store lives in the container")

    def __init__(self) -> None:
        super().__init__()
        self._container_setup()

    def variables(self) -> dict[str, str]:
        return {"STORAGES_DROPBOX_TOKEN": ACCESS_TOKEN}

    def mounts(self) -> dict[str, str]:
        return {str(self.scratch()): "/srv/tls"}

    def extra_args(self) -> list[str]:
        self.https_port = self.ca_bundle = None
        if not self.host_network:
            return []  # one published port: plain HTTP only
        from .dropbox_fake import make_certificates

        certs = make_certificates(self.scratch())
        self.ca_bundle, self.https_port = str(certs.bundle), free_port()
        return ["--tls", f"/srv/tls/{certs.cert.name}", f"/srv/tls/{certs.key.name}", str(self.https_port)]

    def reset(self) -> None:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            conn.request("POST", "/_fake/reset", body=b"")
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        if response.status != 200:
            raise EmulatorError(f"the dropbox container refused a reset: HTTP {response.status}")


class FTPContainer(ContainerService, FTPEmulator):
    """This project's FTP emulator in the ``django-storages/emulators`` image; its root is a
    host directory mounted into the container (``root_dir`` works, and so does ``reset()``)."""

    commands = native_only("commands are recorded inside the container")
    fired = native_only("faults fire inside the container")
    inject = native_only("faults are injected inside the container")
    count = native_only("commands are recorded inside the container")
    restart = native_only("the container's server cannot be restarted in place")

    def __init__(self) -> None:
        super().__init__()
        self._container_setup()

    def start(self) -> None:
        if not self.started:
            self.workdir = self.scratch()
            self.root_dir.mkdir(exist_ok=True)
        super().start()

    def variables(self) -> dict[str, str]:
        variables = {"STORAGES_FTP_PASSWORD": self.password}
        if self.host_network:
            variables["STORAGES_FTP_PASSIVE_PORTS"] = "0"  # host networking: any free port
        return variables

    def mounts(self) -> dict[str, str]:
        return {str(self.root_dir): "/srv/root"}

    def extra_args(self) -> list[str]:
        return ["--root", "/srv/root"]

    def fixed_ports(self) -> list[int]:
        command = self.spec.command if self.spec else []
        value = command[command.index("--passive-ports") + 1] if "--passive-ports" in command else ""
        low, _, high = value.partition("-")
        return list(range(int(low), int(high) + 1)) if low.isdigit() and high.isdigit() else []

    def reset(self) -> None:
        """Delete every file and directory under the (mounted) root."""
        for child in self.root_dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)

    def stop(self, **_: Any) -> None:
        super().stop()
        self.workdir = None


class SFTPContainer(ContainerService, SFTPEmulator):
    """This project's SFTP server in the ``django-storages/emulators`` image: password and
    key auth (the client key is made here), the host key read from the container's log
    and pinned in ``known_hosts``, the jail a mounted host directory."""

    hooks = native_only("fault hooks run inside the container")
    connection_count = native_only("connections are counted inside the container")
    restart = native_only("the container's server cannot be restarted in place")

    def __init__(self) -> None:
        super().__init__()
        self._container_setup()
        self._public_key = ""

    def start(self) -> None:
        if not self.started:
            from .sftp_server import generate_ed25519

            self.workdir = self.scratch()
            self.root_dir = self.workdir / "root"
            self.root_dir.mkdir(exist_ok=True)
            key, private_text = generate_ed25519()
            self._public_key = f"{key.get_name()} {key.get_base64()}"
            self.client_key_file = self.workdir / "client_ed25519"
            self.client_key_file.write_text(private_text)
            self.client_key_file.chmod(0o600)
            self.known_hosts = self.workdir / "known_hosts"
        super().start()

    def variables(self) -> dict[str, str]:
        return {"STORAGES_SFTP_PASSWORD": self.password, "STORAGES_SFTP_AUTHORIZED_KEY": self._public_key}

    def mounts(self) -> dict[str, str]:
        return {str(self.root_dir): "/srv/root"}

    def extra_args(self) -> list[str]:
        return ["--root", "/srv/root"]

    def health(self) -> bool:
        return "HOSTKEY " in self.container_log() and super().health()

    def after_container_start(self) -> None:
        line = next(line for line in self.container_log().splitlines() if line.startswith("HOSTKEY "))
        _, kind, key = line.split()
        assert self.known_hosts is not None
        self.known_hosts.write_text(f"{self.known_hosts_name} {kind} {key}\n")

    def stop(self, **_: Any) -> None:
        super().stop()
        self.workdir = self.root_dir = self.known_hosts = self.client_key_file = None


CONTAINERS: dict[str, type] = {
    "s3": S3Container, "gcs": GCSContainer, "azure": AzureContainer,
    "dropbox": DropboxContainer, "ftp": FTPContainer, "sftp": SFTPContainer,
}


def container_emulator(name: str) -> Any:
    """The container emulator for ``name``. Libcloud has no service of its own (its local
    driver is a directory; its S3/Azure targets use those containers): it stays native."""
    if name not in CONTAINERS:
        return emulator_class(name)()
    return CONTAINERS[name]()


__all__ = ["CONTAINERS", "ContainerService", "container_emulator", "docker_client", "engine_url",
           "stop_watchdogs"]
