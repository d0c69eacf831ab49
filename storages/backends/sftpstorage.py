"""SFTP storage on paramiko (SEED.md, "SFTP").

One SSH connection per thread, checked before use and re-established after a
server restart. Host keys are verified against a known-hosts file; an unknown
key is refused unless ``SFTP_STORAGE_ACCEPT_UNKNOWN_HOST_KEY`` opts in. Reads
stream through a bounded read-ahead window; writes stream to a hidden
temporary name that is renamed into place: ``posix-rename`` (atomic replace)
when overwriting, plain SFTP ``RENAME`` (which refuses an existing target) for
create-only saves.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import logging
import os
import posixpath
import re
import socket
import stat
import threading
import uuid
import weakref
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar
from urllib.parse import quote, urljoin

from django.core.exceptions import ImproperlyConfigured

from storages.core import (
    BaseStorage,
    ObjectInfo,
    Option,
    ServiceUnavailable,
    Upload,
    clean_name,
    require,
    to_bool,
    to_int,
)

from ._sftp_transfer import ReadStream, WriteStream

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Uploads are written to ``.~sftp-<hex>.part`` beside the target; listings hide these.
_TEMP_NAME = re.compile(r"^\.~sftp-[0-9a-f]{32}\.part$")


def to_mode(value: Any) -> int:
    """A permission mode: an int (``0o644``) or an octal string (``"644"``, ``"0o644"``)."""
    if isinstance(value, str):
        return int(value.strip().lower().removeprefix("0o"), 8)
    return int(value)


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


class _Connections:
    """Every live connection of one storage, to close them all at once."""

    def __init__(self) -> None:
        self._live: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._lock = threading.Lock()

    def add(self, conn: _Connection) -> None:
        with self._lock:
            self._live.add(conn)

    def close_all(self) -> None:
        with self._lock:
            conns = list(self._live)
        for conn in conns:
            conn.close()


def _is_connection_error(exc: BaseException) -> bool:
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


def _timestamp(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


class SFTPStorage(BaseStorage):
    """Files on an SFTP server, under ``SFTP_STORAGE_ROOT``."""

    options = (
        Option("host", ("SFTP_STORAGE_HOST",)),
        Option("params", ("SFTP_STORAGE_PARAMS",), default=dict, secret=True),
        Option("interactive", ("SFTP_STORAGE_INTERACTIVE",), default=False, convert=to_bool),
        Option("file_mode", ("SFTP_STORAGE_FILE_MODE",), convert=to_mode),
        Option("dir_mode", ("SFTP_STORAGE_DIR_MODE",), convert=to_mode),
        Option("uid", ("SFTP_STORAGE_UID",), convert=to_int),
        Option("gid", ("SFTP_STORAGE_GID",), convert=to_int),
        Option("known_host_file", ("SFTP_KNOWN_HOST_FILE",)),
        Option("location", ("SFTP_STORAGE_ROOT",), default="", aliases=("root_path",)),
        Option("base_url", ("SFTP_BASE_URL", "MEDIA_URL")),
        Option("file_overwrite", ("SFTP_STORAGE_FILE_OVERWRITE",), default=False, convert=to_bool),
        Option("accept_unknown_host_key", ("SFTP_STORAGE_ACCEPT_UNKNOWN_HOST_KEY",), default=False,
               convert=to_bool),
    )
    unsupported = {
        "created_time": "SFTP (protocol v3, spoken by paramiko and OpenSSH) reports only "
                        "modification and access times",
        "signed_urls": "SFTP has no signed URLs; url() joins SFTP_BASE_URL (or MEDIA_URL) with the name",
        "fetchable_urls": "url() points at SFTP_BASE_URL (or MEDIA_URL), served by a web server "
                          "this storage does not run",
    }
    part_size = 1024 * 1024
    #: Bytes of 32 KiB requests kept in flight while streaming a read / a write.
    read_window = 4 * 1024 * 1024
    write_window = 4 * 1024 * 1024

    def _options_changed(self) -> None:
        # The base drops every thread's connection; each closes once nothing uses it
        # (a stream still reading keeps its own).
        super()._options_changed()
        self._connections = _Connections()
        weakref.finalize(self, self._connections.close_all)
        self._prompted_password: str | None = None
        self._posix_rename = True

    # -- connections ---------------------------------------------------------------
    @property
    def port(self) -> int:
        return int((self.params or {}).get("port") or 22)

    def endpoint(self) -> str:
        user = (self.params or {}).get("username")
        return f"sftp://{user + '@' if user else ''}{self.host}:{self.port}"

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
                ssh.close()
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
            conn = _Connection(ssh, sftp)
            self._connections.add(conn)
            return conn
        raise AssertionError("unreachable")

    def _new_client(self, paramiko: Any) -> Any:
        ssh = paramiko.SSHClient()
        known = self._known_host_file()
        if os.path.exists(known):
            ssh.load_system_host_keys(known)  # read only: never written back
        ssh.set_missing_host_key_policy(_AcceptUnknownHost() if self.accept_unknown_host_key
                                        else _RefuseUnknownHost(known))
        return ssh

    def _conn(self) -> _Connection:
        """This thread's connection, reconnecting if the old one is gone."""
        conn = self._per_thread("conn", self._connect)
        if not conn.active:
            self._drop(conn)
            conn = self._per_thread("conn", self._connect)
        return conn

    def _drop(self, conn: _Connection) -> None:
        conn.close()
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None

    def _run(self, func: Callable[[Any], T]) -> T:
        """``func(sftp)``, run again once on a new connection if the old one died."""
        conn = self._conn()
        try:
            return func(conn.sftp)
        except Exception as exc:
            if conn.active and not _is_connection_error(exc):
                raise
            log.info("SFTP connection to %s lost (%s); reconnecting", self.endpoint(), exc)
            self._drop(conn)
        return func(self._conn().sftp)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.endpoint()}{self.location or ''}>"

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """For migrations: SFTP_STORAGE_PARAMS (passwords, keys) never goes into a file."""
        path, args, kwargs = super().deconstruct()
        return path, args, {k: v for k, v in kwargs.items() if k not in self._secret_names()}

    def close(self) -> None:
        """Close every connection this storage opened (in any thread)."""
        self._connections.close_all()
        self._local = threading.local()

    disconnect = close

    # -- hooks -----------------------------------------------------------------------
    def _info(self, attrs: Any) -> ObjectInfo:
        return ObjectInfo(size=attrs.st_size, modified=_timestamp(attrs.st_mtime),
                          accessed=_timestamp(attrs.st_atime))

    def _stat(self, key: str) -> ObjectInfo:
        return self._info(self._run(lambda sftp: sftp.stat(key)))

    def _open_stream(self, key: str, start: int) -> tuple[Any, ObjectInfo]:
        def open_(sftp: Any) -> tuple[Any, Any]:
            try:
                handle = sftp.open(key, "rb")
            except OSError as exc:
                if exc.errno is None and stat.S_ISDIR(sftp.stat(key).st_mode or 0):
                    raise IsADirectoryError(f"{key!r} on {self.endpoint()} is a directory") from None
                raise
            try:
                attrs = handle.stat()
            except BaseException:
                handle.close()
                raise
            return handle, attrs

        handle, attrs = self._run(open_)
        stream = ReadStream(handle, start, attrs.st_size, self.read_window)
        stream.conn = getattr(self._local, "conn", None)  # alive while the stream is
        return stream, self._info(attrs)

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        return _SFTPUpload(self, key, create_only)

    def _delete(self, key: str) -> None:
        def remove(sftp: Any) -> None:
            try:
                sftp.remove(key)
            except FileNotFoundError:
                pass

        self._run(remove)

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        path = prefix.rstrip("/") or ("/" if prefix.startswith("/") else ".")

        def listing(sftp: Any) -> list[Any]:
            try:
                return sftp.listdir_attr(path)
            except FileNotFoundError:
                return []

        dirs, files = [], []
        for entry in self._run(listing):
            if _TEMP_NAME.match(entry.filename):
                continue
            (dirs if stat.S_ISDIR(entry.st_mode or 0) else files).append(entry.filename)
        return sorted(dirs), sorted(files)

    def url(self, name: str) -> str:
        cleaned = clean_name(name)  # refuses names that escape, like every other call
        if self.base_url is None:
            raise ValueError("This file is not accessible via a URL: set SFTP_BASE_URL (or MEDIA_URL).")
        return urljoin(self.base_url, quote(cleaned))

    # -- helpers for uploads -----------------------------------------------------------
    def _makedirs(self, sftp: Any, path: str) -> None:
        """Create ``path`` and missing parents with ``dir_mode``, uid and gid."""
        if path in ("", "/", "."):
            return
        try:
            self._mkdir(sftp, path)
        except FileNotFoundError:
            self._makedirs(sftp, posixpath.dirname(path))
            self._mkdir(sftp, path)

    def _mkdir(self, sftp: Any, path: str) -> None:
        try:
            sftp.mkdir(path, self.dir_mode if self.dir_mode is not None else 0o777)
        except (FileNotFoundError, PermissionError):
            raise
        except OSError:
            if not stat.S_ISDIR(sftp.stat(path).st_mode or 0):  # made meanwhile, or a file there
                raise NotADirectoryError(f"{path!r} on {self.endpoint()} is not a directory") from None
            return
        if self.dir_mode is not None:
            sftp.chmod(path, self.dir_mode)  # the server's umask may have narrowed it
        if self.uid is not None or self.gid is not None:
            attrs = sftp.stat(path)
            sftp.chown(path, _pick(self.uid, attrs.st_uid), _pick(self.gid, attrs.st_gid))

    def _apply_file_attrs(self, handle: Any) -> None:
        if self.file_mode is not None:
            handle.chmod(self.file_mode)
        if self.uid is not None or self.gid is not None:
            attrs = handle.stat()
            handle.chown(_pick(self.uid, attrs.st_uid), _pick(self.gid, attrs.st_gid))

    def _place(self, sftp: Any, tmp: str, key: str, create_only: bool) -> None:
        """Rename the finished temp file to ``key``."""
        if create_only:
            try:
                sftp.rename(tmp, key)  # SFTP v3 RENAME refuses an existing target
            except OSError as exc:
                if _exists(sftp, key):
                    raise FileExistsError(f"{key!r} already exists on {self.endpoint()}") from exc
                raise
            return
        if self._posix_rename:
            try:
                sftp.posix_rename(tmp, key)
                return
            except OSError as exc:
                if "unsupported" not in str(exc).lower():
                    raise
                self._posix_rename = False  # an old server: replace in two steps
        try:
            sftp.rename(tmp, key)
        except OSError:
            if not _exists(sftp, key):
                raise
            sftp.remove(key)
            sftp.rename(tmp, key)

    # -- errors -------------------------------------------------------------------------
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        import paramiko

        where = self.endpoint()
        if isinstance(exc, paramiko.BadHostKeyException):
            return ImproperlyConfigured(
                f"The host key of {where} ({exc.key.get_name()} {_fingerprint(exc.key)}) does not match "
                f"the one in {self._known_host_file()} ({_fingerprint(exc.expected_key)}). Either the "
                "server was reinstalled or someone is intercepting the connection; check with its "
                "administrator before updating the known-hosts file."
            )
        if isinstance(exc, paramiko.AuthenticationException):
            user = (self.params or {}).get("username") or "(default user)"
            return PermissionError(
                f"SFTP authentication failed for user {user!r} at {where}: {exc} "
                "Check the password or key in SFTP_STORAGE_PARAMS."
            )
        if isinstance(exc, paramiko.SFTPError):
            return OSError(f"SFTP protocol error from {where} on {name!r}: {exc}")
        if isinstance(exc, OSError) and not _is_connection_error(exc) and exc.errno is None \
                and not isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
            return OSError(f"SFTP server {where} refused the operation on {name!r}: {exc}")
        if isinstance(exc, (OSError, EOFError, paramiko.SSHException)):
            return ServiceUnavailable(f"SFTPStorage could not reach {where}: {exc}")
        return None


def _pick(value: int | None, current: int | None) -> int:
    return int(value if value is not None else (current if current is not None else -1))


def _exists(sftp: Any, path: str) -> bool:
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True


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


class _SFTPUpload(Upload):
    """Streams to a hidden temp file beside the target, renamed into place on commit."""

    def __init__(self, storage: SFTPStorage, key: str, create_only: bool) -> None:
        self.storage = storage
        self.key = key
        self.create_only = create_only
        self.tmp = ""
        self.stream: WriteStream | None = None

    def _open_tmp(self, sftp: Any) -> WriteStream:
        self.tmp = posixpath.join(posixpath.dirname(self.key), f".~sftp-{uuid.uuid4().hex}.part")
        try:
            handle = sftp.open(self.tmp, "wx")
        except FileNotFoundError:
            self.storage._makedirs(sftp, posixpath.dirname(self.tmp))
            handle = sftp.open(self.tmp, "wx")
        return WriteStream(handle, self.storage.write_window)

    def write_part(self, data: bytes) -> None:
        if self.stream is None:
            self.stream = self.storage._run(self._open_tmp)
            self.stream.conn = getattr(self.storage._local, "conn", None)  # alive while writing
        self.stream.write(data)

    def commit(self, tail: bytes) -> None:
        if self.stream is not None:  # streamed: the bytes already sent cannot be replayed
            self._finish(self.stream, tail)
            return
        # A small file is sent whole here, so a reconnect can redo all of it.
        self.storage._run(lambda sftp: self._finish(self._open_tmp(sftp), tail))

    def _finish(self, stream: WriteStream, tail: bytes) -> None:
        handle = stream._handle
        try:
            stream.write(tail)
            stream.flush()
            self.storage._apply_file_attrs(handle)
            handle.close()
            self.storage._place(handle.sftp, self.tmp, self.key, self.create_only)
        except BaseException:
            self._discard(stream)
            raise
        self.stream = None

    def abort(self) -> None:
        if self.stream is not None:
            self._discard(self.stream)
            self.stream = None

    def _discard(self, stream: WriteStream) -> None:
        """Best effort: close and delete the temp file (the connection may be gone)."""
        handle = stream._handle
        for step in (handle.close, lambda: handle.sftp.remove(self.tmp)):
            try:
                step()
            except Exception as exc:  # the upload already failed; this is only tidying
                log.debug("cleaning up %s on %s: %s", self.tmp, self.storage.endpoint(), exc)
