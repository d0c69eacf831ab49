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
a watchdog process (``python -m emulators.containers watchdog``) removes what it left,
and the next run sweeps containers whose owner is gone. testcontainers' own reaper
(Ryuk) is switched off unless $TESTCONTAINERS_RYUK_DISABLED says otherwise: its image
comes from Docker Hub.
"""

from __future__ import annotations

import functools
import http.client
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .azure import AzureEmulator
from .base import EmulatorError, EmulatorUnavailable, free_port, wait_until
from .compose import ServiceSpec, service
from .dropbox import ACCESS_TOKEN, DropboxEmulator
from .ftp import FTPEmulator
from .gcs import GCSEmulator
from .modes import native_only
from .registry import emulator_class
from .s3 import DEFAULT_BUCKET, S3Emulator
from .sftp import SFTPEmulator

#: Where ``./dev docker-setup`` (.ci/docker-setup) starts an engine of its own.
SETUP_SOCKET = "/run/storages-docker/docker.sock"
OWNER_LABEL = "org.django-storages.owner"
SERVICE_LABEL = "org.django-storages.service"
INSTALL_HINT = "pip install 'django-storages[docker]'"
_watchdogs: dict[str, subprocess.Popen[bytes]] = {}
_lock = threading.Lock()


def _sdk() -> Any:
    try:
        import docker
        import testcontainers.core.container  # noqa: F401
    except ImportError as exc:
        raise EmulatorUnavailable(
            f"the docker route needs the Docker SDK and testcontainers ({exc}): {INSTALL_HINT}") from exc
    return docker


@functools.lru_cache(maxsize=1)
def engine_url() -> str:
    """The first Docker engine that answers: $DOCKER_HOST if set, else /var/run/docker.sock,
    else the one ``./dev docker-setup`` starts; EmulatorUnavailable saying what was tried."""
    docker = _sdk()
    if os.environ.get("DOCKER_HOST"):
        candidates = [("$DOCKER_HOST", os.environ["DOCKER_HOST"])]
    else:
        candidates = [(path, f"unix://{path}") for path in ("/var/run/docker.sock", SETUP_SOCKET)]
    tried = []
    for how, url in candidates:
        if url.startswith("unix://") and not os.path.exists(url[len("unix://"):]):
            tried.append(f"{how}: no such socket")
            continue
        try:
            docker.DockerClient(base_url=url, version="auto", timeout=10).ping()
        except Exception as exc:  # any failure means "not this one"; all are reported
            tried.append(f"{how}: {type(exc).__name__}: {exc}")
            continue
        return url
    raise EmulatorUnavailable(
        "no Docker engine answered (" + "; ".join(tried) + "): start one with `./dev docker-setup` "
        "(root and apt; it installs docker.io and starts dockerd), or set DOCKER_HOST")


def docker_client() -> Any:
    """A docker SDK client for :func:`engine_url`."""
    return _sdk().DockerClient(base_url=engine_url(), version="auto", timeout=120)


def uses_host_network(client: Any) -> bool:
    """$STORAGE_DOCKER_NETWORK (``host``/``bridge``), else host networking when the engine
    has no ``bridge`` network (dockerd --bridge=none)."""
    choice = os.environ.get("STORAGE_DOCKER_NETWORK", "").lower()
    if choice in ("host", "bridge"):
        return choice == "host"
    return not client.networks.list(names=["bridge"])


def ensure_image(client: Any, spec: ServiceSpec) -> None:
    """The service's image is here, or pulled, or EmulatorUnavailable saying how to build it."""
    docker = _sdk()
    try:
        client.images.get(spec.image)
        return
    except docker.errors.ImageNotFound:
        pass
    try:
        client.images.pull(spec.image)
    except docker.errors.APIError as exc:
        how = ("it is built from this checkout" if spec.own_image
               else "a stand-in can be built here from what is installed")
        raise EmulatorUnavailable(
            f"image {spec.image} (docker-compose.test.yml, service {spec.name}) is not on the engine and "
            f"could not be pulled ({exc.explanation or exc}); {how}: python -m emulators.images build "
            f"{spec.name} (./dev docker-setup builds them all)") from exc


# -- owners and the watchdog ------------------------------------------------------------
def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def owner_id(pid: int | None = None) -> str:
    """``host:pid:start-time`` of a process: a label that is not confused by pid reuse."""
    pid = pid or os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def owner_alive(owner: str) -> bool:
    """False when ``owner`` (see :func:`owner_id`) is a process of this host that is gone."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another machine's: not ours to judge
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not started or _start_time(int(pid_text)) == started


def remove_owned(client: Any, owner: str) -> int:
    """Remove every container labelled with ``owner``; how many there were."""
    containers = client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={owner}"})
    for container in containers:
        container.remove(force=True, v=True)
    return len(containers)


def sweep_orphans(client: Any) -> int:
    """Remove containers whose owner process (on this host) is gone; how many."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": OWNER_LABEL}):
        if not owner_alive(container.labels.get(OWNER_LABEL, "")):
            container.remove(force=True, v=True)
            removed += 1
    return removed


def _ensure_watchdog(owner: str) -> None:
    with _lock:
        running = _watchdogs.get(owner)
        if running is not None and running.poll() is None:
            return
        _watchdogs[owner] = subprocess.Popen(
            [sys.executable, "-m", "emulators.containers", "watchdog", owner, engine_url()],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, cwd=str(Path(__file__).resolve().parents[1]),
        )


def stop_watchdogs() -> None:
    """End this process's watchdog (its containers are already removed)."""
    with _lock:
        for proc in _watchdogs.values():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
        _watchdogs.clear()


def watchdog(owner: str, url: str, interval: float = 1.0) -> int:
    """Wait for ``owner`` to end, then remove the containers labelled with it."""
    import docker

    while owner_alive(owner):
        time.sleep(interval)
    return remove_owned(docker.DockerClient(base_url=url, version="auto"), owner)


# -- container emulators --------------------------------------------------------------------
class ContainerService:
    """Mixin for an emulator class: run its compose service in a container instead."""

    name: str
    host: str
    port: int | None
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
        _ensure_watchdog(owner)
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
        container, self._container = self._container, None
        if container is not None and container._container is not None:
            try:
                container.get_wrapped_container().remove(force=True, v=True)
            except Exception as exc:  # already gone (e.g. removed by the watchdog) is fine
                if "No such container" not in str(exc) and "404" not in str(exc):
                    raise
        self.started = False
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def describe(self) -> str:
        image = self.spec.image if self.spec else "?"
        return f"{self.name} emulator in a container ({image}) at {self.endpoint}"  # type: ignore[attr-defined]


class S3Container(ContainerService, S3Emulator):
    """moto's server in the compose file's ``motoserver/moto`` image."""

    def __init__(self) -> None:
        super().__init__()
        self._container_setup()

    def after_container_start(self) -> None:
        self._create_bucket(DEFAULT_BUCKET)


class GCSContainer(ContainerService, GCSEmulator):
    """fake-gcs-server in the compose file's ``fsouza/fake-gcs-server`` image."""

    def __init__(self) -> None:
        super().__init__()
        self._container_setup()
        self.program = "fake-gcs-server"

    def after_container_start(self) -> None:
        self._workdir = self.scratch()
        self.after_start()


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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "watchdog":
        watchdog(args[1], args[2])
        return 0
    print("usage: python -m emulators.containers watchdog OWNER DOCKER_URL", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
