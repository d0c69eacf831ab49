"""The Docker engine of the docker route: finding one, images, container owners and the watchdog.

Every container the route starts is labelled with its owner (host, pid, process start
time). A watchdog process (``python -m emulators.docker_engine watchdog OWNER URL``)
waits for the owner to end and removes what it left; :func:`sweep_orphans` removes the
containers of owners that are gone.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .base import EmulatorUnavailable
from .compose import ServiceSpec

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


def labelled(client: Any, label: str) -> list[Any]:
    """The containers carrying ``label`` (``key`` or ``key=value``), skipping any removed while
    they are listed (a watchdog or another process may be removing them)."""
    return client.containers.list(all=True, filters={"label": label}, ignore_removed=True)


def remove_container(container: Any) -> None:
    """Remove ``container`` and its volumes; one already gone, or going, is no error."""
    import docker

    try:
        container.remove(force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if exc.status_code != 409 or "already in progress" not in str(exc.explanation):
            raise


def remove_owned(client: Any, owner: str) -> int:
    """Remove every container labelled with ``owner``; how many there were."""
    containers = labelled(client, f"{OWNER_LABEL}={owner}")
    for container in containers:
        remove_container(container)
    return len(containers)


def sweep_orphans(client: Any) -> int:
    """Remove containers whose owner process (on this host) is gone; how many."""
    removed = 0
    for container in labelled(client, OWNER_LABEL):
        if not owner_alive(container.labels.get(OWNER_LABEL, "")):
            remove_container(container)
            removed += 1
    return removed


def ensure_watchdog(owner: str) -> None:
    with _lock:
        running = _watchdogs.get(owner)
        if running is not None and running.poll() is None:
            return
        _watchdogs[owner] = subprocess.Popen(
            [sys.executable, "-m", "emulators.docker_engine", "watchdog", owner, engine_url()],
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


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "watchdog":
        watchdog(args[1], args[2])
        return 0
    print("usage: python -m emulators.docker_engine watchdog OWNER DOCKER_URL", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
