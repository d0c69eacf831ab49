"""SFTP connections on paramiko: one SSH connection per thread, checked before use
and re-established after a server restart (the core's Reconnecting retries the
call once); host keys verified against a known-hosts file (an unknown key is
refused unless ``SFTP_STORAGE_ACCEPT_UNKNOWN_HOST_KEY`` opts in); an optional
interactive password prompt, remembered for reconnects."""

from __future__ import annotations

import base64
import getpass
import hashlib
import logging
import os
import socket
import threading
import weakref
from typing import Any, Callable, TypeVar

from django.core.exceptions import ImproperlyConfigured

from storages.core import Reconnecting, ServiceUnavailable, require, translated

# The storage module's logger, so logging configured for it still applies.
log = logging.getLogger("storages.backends.sftpstorage")
T = TypeVar("T")


class _Connection:
    """One SSH connection and its SFTP session, closed when dropped."""

    def __init__(self, ssh: Any, sftp: Any) -> None:
        self.ssh = ssh
        self.sftp = sftp
        weakref.finalize(self, ssh.close)

    @property
    def active(self) -> bool:
        transport = self.ssh.get_transport()
        return transport is not None and transport.is_active()

    def close(self) -> None:
        self.ssh.close()


class _Connections(Reconnecting[_Connection]):
    """One storage's connections, one per thread: each thread's is checked before use
    and replaced when it died (a call that failed on it runs once more, see the core's
    Reconnecting); ``close_all`` closes every one, in any thread."""

    def __init__(self, storage: SFTPConnectionMixin) -> None:
        self._storage: Any = weakref.proxy(storage)  # weak: the storage's finalizer holds this object
        self._local = threading.local()
        self._live: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._lock = threading.Lock()

    def _acquire(self) -> _Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or not conn.active:
            if conn is not None:
                conn.close()
            conn = self._local.conn = self._storage._connect()
            with self._lock:
                self._live.add(conn)
        return conn

    def _dropped(self, conn: _Connection, error: Exception) -> bool:
        return not conn.active or is_connection_error(error)

    def _reconnect(self, conn: _Connection, error: Exception) -> _Connection:
        log.info("SFTP connection to %s lost (%s); reconnecting", self._storage.endpoint(), error)
        conn.close()
        return self._acquire()

    def detach(self) -> None:
        """Forget every thread's connection; each closes once nothing uses it."""
        self._local = threading.local()

    def close_all(self) -> None:
        with self._lock:
            conns = list(self._live)
        for conn in conns:
            conn.close()
        self.detach()


def is_connection_error(exc: BaseException) -> bool:
    """``exc`` means the connection is gone (not an error about a file)."""
    import paramiko

    if isinstance(exc, (EOFError, socket.timeout, ConnectionError)):
        return True
    if isinstance(exc, paramiko.SSHException) and not isinstance(exc, paramiko.AuthenticationException):
        return True
    return isinstance(exc, OSError) and str(exc) == "Socket is closed"


def _no_delay(transport: Any) -> None:
    """Send each request at once: SFTP waits on small replies, and Nagle with
    delayed ACKs would add up to 40 ms to every synchronous request."""
    try:
        transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError):
        pass  # not a TCP socket (a ProxyCommand, say)


def _fingerprint(key: Any) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


class SFTPConnectionMixin:
    """Connection management for ``SFTPStorage`` (a ``BaseStorage`` with the
    ``host``, ``params``, ``interactive``, ``known_host_file`` and
    ``accept_unknown_host_key`` options)."""

    host: str | None
    params: dict[str, Any] | None
    interactive: bool
    known_host_file: str | None
    accept_unknown_host_key: bool
    endpoint: Callable[[], str]

    def _options_changed(self) -> None:
        super()._options_changed()  # type: ignore[misc]
        if hasattr(self, "_connections"):  # new settings: the old connections close once unused
            self._connections.detach()  # (a stream still reading keeps its own)
        self._connections = _Connections(self)
        weakref.finalize(self, self._connections.close_all)
        self._prompted_password: str | None = None

    def _known_host_file(self) -> str:
        return os.path.expanduser(self.known_host_file or os.path.join("~", ".ssh", "known_hosts"))

    def _connect(self) -> _Connection:
        paramiko = require("paramiko", "sftp")
        if not self.host:
            raise ImproperlyConfigured("SFTPStorage needs a host: set SFTP_STORAGE_HOST (or 'host')")
        params = dict(self.params or {})
        if "hostname" in params:
            raise ImproperlyConfigured("SFTP_STORAGE_PARAMS must not hold 'hostname': use SFTP_STORAGE_HOST")
        if self._prompted_password is not None:
            params["password"] = self._prompted_password
        params.setdefault("timeout", 30)
        for attempt in (1, 2):
            ssh = self._new_client(paramiko)
            try:
                ssh.connect(self.host, **params)
                _no_delay(ssh.get_transport())
                sftp = ssh.open_sftp()
                sftp.get_channel().settimeout(params["timeout"])
            except paramiko.SSHException as exc:
                transport = ssh.get_transport()
                dropped = transport is None or not transport.is_active()
                ssh.close()
                if dropped and isinstance(exc, paramiko.AuthenticationException):
                    # paramiko reports a connection lost during login as a refused login.
                    raise ServiceUnavailable(f"SFTP server {self.endpoint()} closed the connection "
                                             "during login") from exc
                no_method = str(exc) == "No authentication methods available"
                if not (no_method or isinstance(exc, paramiko.AuthenticationException)):
                    raise
                if attempt == 2 or not self.interactive or "password" in params:
                    if no_method:
                        raise ImproperlyConfigured(
                            f"SFTPStorage has no way to log in to {self.endpoint()}: SFTP_STORAGE_PARAMS "
                            "has no password, pkey or key_filename and no key or agent was usable "
                            "(SFTP_STORAGE_INTERACTIVE = True asks for a password)."
                        ) from exc
                    raise
                params.setdefault("username", getpass.getuser())
                self._prompted_password = params["password"] = getpass.getpass(
                    f"SFTP password for {params['username']}@{self.host}: ")
                continue
            except BaseException:
                ssh.close()
                raise
            return _Connection(ssh, sftp)
        raise AssertionError("unreachable")

    def _new_client(self, paramiko: Any) -> Any:
        ssh = paramiko.SSHClient()
        known = self._known_host_file()
        if os.path.exists(known):
            ssh.load_system_host_keys(known)  # read only: never written back
        ssh.set_missing_host_key_policy(_AcceptUnknownHost() if self.accept_unknown_host_key
                                        else _RefuseUnknownHost(known))
        return ssh

    def _run(self, func: Callable[[Any], T]) -> T:
        """``func(sftp)`` on this thread's connection, run again once on a new connection
        if the old one died."""
        return self._connections.run(lambda conn: func(conn.sftp))

    def _host_key_mismatch(self, exc: Any) -> ImproperlyConfigured:
        """The error for paramiko's ``BadHostKeyException``."""
        return ImproperlyConfigured(
            f"The host key of {self.endpoint()} ({exc.key.get_name()} {_fingerprint(exc.key)}) does not "
            f"match the one in {self._known_host_file()} ({_fingerprint(exc.expected_key)}). Either the "
            "server was reinstalled or someone is intercepting the connection; check with its "
            "administrator before updating the known-hosts file."
        )

    def close(self) -> None:
        """Close every connection this storage opened (in any thread)."""
        self._connections.close_all()

    disconnect = close

    @property
    def sftp(self) -> Any:
        """This thread's paramiko ``SFTPClient`` (upstream's lazy connection): opened on first
        use, opened again if it died. ``close()`` (or leaving ``with storage:``) closes it."""
        with translated(self, ""):
            return self._connections._acquire().sftp

    def __enter__(self) -> SFTPConnectionMixin:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class _RefuseUnknownHost:
    """paramiko policy: refuse a host key that is not in the known-hosts file, saying how to fix it."""

    def __init__(self, known_file: str) -> None:
        self.known_file = known_file

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        missing = "" if os.path.exists(self.known_file) else " (the file does not exist)"
        host, _, port = hostname.strip("[").partition("]:")
        raise ImproperlyConfigured(
            f"Refusing the SFTP server {hostname}: its {key.get_name()} host key {_fingerprint(key)} "
            f"is not in the known-hosts file {self.known_file}{missing}. Confirm the fingerprint with "
            f"the server's administrator, then add it (e.g. ssh-keyscan {'-p ' + port + ' ' if port else ''}"
            f"{host} >> {self.known_file}) or point SFTP_KNOWN_HOST_FILE at a file that has it. "
            "To accept unknown host keys without checking (insecure), set "
            "SFTP_STORAGE_ACCEPT_UNKNOWN_HOST_KEY = True."
        )


class _AcceptUnknownHost:
    """paramiko policy (opt-in): accept an unknown host key for this connection, and log it."""

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        log.warning("Accepting the unknown %s host key %s of %s (SFTP_STORAGE_ACCEPT_UNKNOWN_HOST_KEY)",
                    key.get_name(), _fingerprint(key), hostname)
        client.get_host_keys().add(hostname, key.get_name(), key)
