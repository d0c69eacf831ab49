"""One lifecycle for every emulator: start / stop / reset / health / options.

In-process emulators subclass :class:`Emulator` directly; emulators that are
separate programs subclass :class:`ProcessEmulator`, which supervises the
process, keeps its log, and quotes the log's tail when it fails to start.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, ask for SIGTERM when the parent dies, so an
    emulator never outlives a test run that was killed (stop() never ran)."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EmulatorUnavailable(RuntimeError):
    """The emulator cannot run here (a program is missing); the message says what to install."""


class EmulatorError(RuntimeError):
    """The emulator was started but did not become healthy."""


def needs(*modules: str, purpose: str) -> None:
    """Import what an emulator needs, or raise EmulatorUnavailable saying what to install."""
    import importlib

    try:
        for module in modules:
            importlib.import_module(module)
    except ImportError as exc:
        raise EmulatorUnavailable(
            f"{purpose} needs {', '.join(modules)} ({exc}); pip install 'django-storages[emulators]'"
        ) from exc


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def unique_name(prefix: str = "t") -> str:
    """A short random name valid as a bucket/container/directory name."""
    return f"{prefix}{uuid.uuid4().hex[:20]}"


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


class Emulator(ABC):
    """A local stand-in for one storage service.

    ``start()`` binds 127.0.0.1 on a free port and returns once healthy;
    ``stop()`` is idempotent and leaves no process behind; ``reset()`` wipes all
    state without a restart. ``storage_options()`` is the ``OPTIONS`` dict that
    points the matching backend at the emulator, ``env()`` the environment
    variables for code that configures the SDK itself.
    """

    #: Selection name used by ``--storage-backend`` and ``python -m emulators up``.
    name: str = ""
    #: Dotted path of the storage class this emulator serves.
    backend: str = ""
    #: The :class:`emulators.seed.Namespace` subclass that seeds and inspects this service.
    namespace_class: type | None = None
    host = "127.0.0.1"

    def __init__(self) -> None:
        self.port: int | None = None
        self.started = False

    # lifecycle -------------------------------------------------------------
    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def reset(self) -> None: ...

    @abstractmethod
    def health(self) -> bool: ...

    @abstractmethod
    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        """OPTIONS for the backend, pointing at this emulator's default namespace."""

    def env(self) -> dict[str, str]:
        """Environment variables that point the service's SDK at this emulator."""
        return {}

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        """OPTIONS for a fresh, empty namespace (bucket/container/root) of its own."""
        return self.storage_options(**overrides)

    def namespace(self, options: dict[str, Any] | None = None) -> Any:
        """Seed and inspect (:mod:`emulators.seed`) the namespace ``options`` point at, or a fresh one."""
        if self.namespace_class is None:
            raise NotImplementedError(f"the {self.name} emulator has no seed/inspect view")
        return self.namespace_class(self, self.new_namespace() if options is None else options)

    def describe(self) -> str:
        """One line saying what runs and where."""
        return f"{self.name} emulator at {self.endpoint}"

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port {self.port}" if self.started else "stopped"
        return f"<{type(self).__name__} {state}>"


class ProcessEmulator(Emulator):
    """An emulator that is a separate program, supervised as a child process."""

    #: Seconds to wait for health after spawning.
    start_timeout = 30.0

    def __init__(self) -> None:
        super().__init__()
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self.log_path: Path | None = None

    @abstractmethod
    def command(self, port: int, workdir: Path) -> list[str]:
        """The argv that starts the program on ``port``."""

    def start(self) -> None:
        if self.started:
            return
        self._workdir = Path(tempfile.mkdtemp(prefix=f"storages-{self.name}-"))
        self.log_path = self._workdir / "emulator.log"
        last_error = ""
        for _ in range(3):  # a port taken between free_port() and bind: try another
            self.port = free_port(self.host)
            argv = self.command(self.port, self._workdir)
            with open(self.log_path, "wb") as log:
                self._process = subprocess.Popen(
                    argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    cwd=self._workdir, env=self.process_env(), start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            if wait_until(lambda: self._process.poll() is not None or self.health(), self.start_timeout):
                if self._process.poll() is None:
                    self.started = True
                    self.after_start()
                    return
            last_error = self.log_tail()
            self._kill()
        raise EmulatorError(f"{self.name} emulator did not start ({' '.join(argv)}):\n{last_error}")

    def process_env(self) -> dict[str, str]:
        return dict(os.environ)

    def after_start(self) -> None:
        """Hook run once the process is healthy."""

    def log_tail(self, lines: int = 30) -> str:
        if self.log_path and self.log_path.exists():
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def _kill(self) -> None:
        proc, self._process = self._process, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)

    def stop(self) -> None:
        self._kill()
        self.started = False
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def health(self) -> bool:
        if self.port is None:
            return False
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5):
                return True
        except OSError:
            return False
