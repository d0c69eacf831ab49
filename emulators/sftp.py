"""SFTP emulator: our own paramiko SFTP server (emulators/sftp_server.py), in-process.

A temp directory holds the jail (``root/``), a generated Ed25519 host key, a
known-hosts file with that key's ``[127.0.0.1]:port`` entry, and a client key
pair for public-key auth. ``restart()`` stops and starts the server on the same
port with the same key and files, as a real server restart would.
"""

from __future__ import annotations

import secrets
import shutil
import socket
import stat
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any, Callable

from .base import Emulator, needs, unique_name
from .ops import DIRECT_USER
from .seed import TreeNamespace

USERNAME = "storages"


class SFTPNamespace(TreeNamespace):
    """A directory, through a raw paramiko SFTP client (password auth) to the emulator."""

    def __init__(self, emulator: Any, options: dict[str, Any]) -> None:
        super().__init__(emulator, options)
        self.root = (options.get("location") or "/").rstrip("/") or "/"

    def _connect(self) -> Any:
        return self.emulator.client(direct=True)

    def _disconnect(self, sftp: Any) -> None:
        sftp.close()
        sftp._ssh_client.close()

    @property
    def sftp(self) -> Any:
        return self.connection

    def _list(self, path: str) -> tuple[list[str], list[str]]:
        try:
            entries = self.sftp.listdir_attr(path)
        except FileNotFoundError:
            return [], []
        dirs = [e.filename for e in entries if stat.S_ISDIR(e.st_mode or 0)]
        files = [e.filename for e in entries if stat.S_ISREG(e.st_mode or 0)]
        return dirs, files

    def _mkdir(self, path: str) -> None:
        try:
            self.sftp.mkdir(path)
        except OSError:
            if not stat.S_ISDIR(self.sftp.stat(path).st_mode or 0):
                raise

    def _write(self, path: str, data: bytes) -> None:
        with self.sftp.open(path, "wb") as f:
            f.write(data)

    def _read(self, path: str) -> bytes:
        with self.sftp.open(path, "rb") as f:
            return f.read()

    def _remove(self, path: str) -> None:
        self.sftp.remove(path)

    def _rmdir(self, path: str) -> None:
        self.sftp.rmdir(path)


class SFTPEmulator(Emulator):
    """A jailed, threaded SFTP server with password and public-key auth."""

    name = "sftp"
    backend = "storages.backends.sftpstorage.SFTPStorage"
    namespace_class = SFTPNamespace

    def __init__(self, base_dir: str | Path | None = None) -> None:
        super().__init__()
        #: Where the emulator's temp directory is made (default: the system's).
        self.base_dir = base_dir
        self.username = USERNAME
        self.password = "pw-" + secrets.token_urlsafe(18)
        self._direct_password = "pw-" + secrets.token_urlsafe(18)
        self.workdir: Path | None = None
        self.root_dir: Path | None = None
        self.known_hosts: Path | None = None
        self.client_key_file: Path | None = None
        self._host_key: Any = None
        self._client_key: Any = None
        self._server: Any = None

    # -- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        if self.started:
            return
        needs("paramiko", "cryptography", purpose="the SFTP emulator")
        from .sftp_server import SFTPServer, generate_ed25519

        if self.workdir is None:
            self._prepare(generate_ed25519)
        assert self.root_dir is not None
        self._server = SFTPServer(str(self.root_dir), self._host_key,
                                  {self.username: self.password, DIRECT_USER: self._direct_password},
                                  {self.username: [self._client_key]}, host=self.host)
        self.port = self._bind(self.port or 0)
        self._write_known_hosts()
        self.started = True

    def _prepare(self, generate: Callable[[], tuple[Any, str]]) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="storages-sftp-", dir=self.base_dir))
        # Removed by stop(); this covers an emulator dropped or an interpreter exiting without it.
        weakref.finalize(self, shutil.rmtree, self.workdir, True)
        self.root_dir = self.workdir / "root"
        self.root_dir.mkdir()
        self._host_key, _ = generate()
        self._client_key, private_text = generate()
        self.client_key_file = self.workdir / "client_ed25519"
        self.client_key_file.write_text(private_text)
        self.client_key_file.chmod(0o600)
        self.known_hosts = self.workdir / "known_hosts"

    def _bind(self, port: int) -> int:
        deadline = time.monotonic() + 5
        while True:
            try:
                return self._server.start(port)
            except OSError:
                if not port or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)  # the old listener's port is being released

    def _write_known_hosts(self) -> None:
        assert self.known_hosts is not None
        key = self._host_key
        self.known_hosts.write_text(f"{self.known_hosts_name} {key.get_name()} {key.get_base64()}\n")

    @property
    def known_hosts_name(self) -> str:
        """How the server appears in a known-hosts file."""
        return f"[{self.host}]:{self.port}"

    def stop(self, *, keep_data: bool = False) -> None:
        """Stop serving (every connection is closed). ``keep_data`` keeps the
        files, keys and port for a later ``start()``; otherwise all is removed."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.started = False
        if not keep_data:
            if self.workdir is not None:
                shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = self.root_dir = self.known_hosts = self.client_key_file = None
            self.port = None

    def restart(self) -> None:
        """Stop and start again on the same port, keeping files and host key."""
        self.stop(keep_data=True)
        self.start()

    def reset(self) -> None:
        """Delete every file and directory under the jail root."""
        if self.root_dir is None:
            return
        for entry in self.root_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def health(self) -> bool:
        if not self.started or self.port is None:
            return False
        try:
            with socket.create_connection((self.host, self.port), timeout=2) as sock:
                return sock.recv(64).startswith(b"SSH-")
        except OSError:
            return False

    # -- what tests and benchmarks use ----------------------------------------
    @property
    def endpoint(self) -> str:
        return f"sftp://{self.host}:{self.port}"

    @property
    def hooks(self) -> Any:
        """Fault injection: ``hooks(op, *args)`` may return an SFTP status code."""
        return self._server.hooks if self._server is not None else None

    @hooks.setter
    def hooks(self, value: Any) -> None:
        self._server.hooks = value

    def connection_count(self) -> int:
        return self._server.connection_count() if self._server is not None else 0

    def drop_connections(self) -> None:
        """Close every client connection, keep serving: what a network cut looks like."""
        self._server.drop_connections()

    def local_path(self, path: str) -> Path:
        """The file on disk behind an SFTP path (``/ns/a.txt``)."""
        assert self.root_dir is not None
        return self.root_dir / path.lstrip("/")

    def connect_params(self, *, key: bool = False, **overrides: Any) -> dict[str, Any]:
        """Keyword arguments for ``paramiko.SSHClient.connect`` (no hostname)."""
        params: dict[str, Any] = {
            "port": self.port, "username": self.username,
            "look_for_keys": False, "allow_agent": False, "timeout": 10,
        }
        if key:
            params["key_filename"] = str(self.client_key_file)
        else:
            params["password"] = self.password
        params.update(overrides)
        return params

    def client(self, *, direct: bool = False, **overrides: Any) -> Any:
        """A connected raw ``paramiko.SFTPClient`` (tests and benchmarks); close it.
        ``direct=True`` goes past the observation layer (not recorded, no faults): seeding and inspection."""
        import paramiko

        if direct and self._server is not None:  # a container or external server has no such account
            overrides = {"username": DIRECT_USER, "password": self._direct_password, **overrides}
        ssh = paramiko.SSHClient()
        ssh.load_system_host_keys(str(self.known_hosts))
        ssh.set_missing_host_key_policy(paramiko.RejectPolicy())
        ssh.connect(self.host, **self.connect_params(**overrides))
        ssh.get_transport().sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sftp = ssh.open_sftp()
        sftp._ssh_client = ssh  # keep the transport's owner alive with the client
        return sftp

    def storage_options(self, *, key: bool = False, **overrides: Any) -> dict[str, Any]:
        options = {
            "host": self.host,
            "params": self.connect_params(key=key),
            "known_host_file": str(self.known_hosts),
            "location": "/",
        }
        options.update(overrides)
        return options

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        return self.storage_options(**{"location": f"/{unique_name('ns')}/", **overrides})

    def env(self) -> dict[str, str]:
        return {
            "SFTP_HOST": self.host,
            "SFTP_PORT": str(self.port),
            "SFTP_USERNAME": self.username,
            "SFTP_PASSWORD": self.password,
            "SFTP_KNOWN_HOSTS": str(self.known_hosts),
            "SFTP_KEY_FILE": str(self.client_key_file),
        }

    def describe(self) -> str:
        return f"sftp emulator at {self.endpoint} (user {self.username}, root {self.root_dir})"


def conformance_target(get: Callable[[str], Any]) -> tuple[str, dict[str, Any]]:
    emulator = get("sftp")
    return emulator.backend, emulator.new_namespace()


__all__ = ["SFTPEmulator", "SFTPNamespace", "conformance_target"]
