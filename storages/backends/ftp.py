"""FTP and FTPS storage on ``ftplib``.

``LOCATION`` is a URL: ``ftp://user:password@host:port/path`` (``ftps://`` for
explicit TLS with a protected data channel, ``aftp://`` for active mode). Reads
stream the ``RETR`` data connection (``REST`` for offsets), writes stream
``STOR`` to a temporary name in the target directory that is renamed into place
on commit, so a failed upload never leaves a partial file under the name.
Connections are pooled, checked with ``NOOP`` after idling, re-established when
the server went away, and each is used by one thread at a time.
"""

from __future__ import annotations

import ftplib
import io
import logging
import os
import posixpath
import re
import socket
import ssl
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, TypeVar
from urllib.parse import quote, unquote, urljoin, urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.encoding import filepath_to_uri

from storages.core import BaseStorage, ObjectInfo, Option, ServiceUnavailable, Upload, to_bool
from storages.core.names import clean_name

logger = logging.getLogger(__name__)
T = TypeVar("T")

#: scheme -> (TLS, passive mode)
SCHEMES = {"ftp": (False, True), "ftps": (True, True), "aftp": (False, False)}
#: Hidden name of an upload in progress; listdir never shows these.
TEMP_PATTERN = re.compile(r"^\.storages-[0-9a-f]{32}\.part$")
#: An idle connection older than this is checked with NOOP before use.
CHECK_AFTER = 15.0
MAX_IDLE = 8
_RENAME_LOCKS = [threading.Lock() for _ in range(64)]
_LOCATION_OPTION = Option("location", ("FTP_STORAGE_LOCATION", "LOCATION"), env=("FTP_STORAGE_LOCATION",))


@dataclass(frozen=True)
class Server:
    """The parsed LOCATION (the password is kept apart, see FTPStorage.password)."""

    scheme: str
    host: str
    port: int
    user: str
    path: str

    @property
    def tls(self) -> bool:
        return SCHEMES[self.scheme][0]

    @property
    def passive(self) -> bool:
        return SCHEMES[self.scheme][1]

    def url(self) -> str:
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}{quote(self.path)}"


def mask(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages), even if malformed."""
    head, at, tail = url.rpartition("@")
    scheme, sep, userinfo = head.rpartition("://")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.partition(':')[0]}:***@{tail}"


def strip_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{userinfo.partition(':')[0]}@{hostport}").geturl()


def parse_location(url: Any) -> tuple[Server, str | None]:
    """Split a LOCATION URL into the server and its password; ImproperlyConfigured if malformed."""
    where = _LOCATION_OPTION.describe()
    bad = f"{where[0].upper()}{where[1:]} is invalid"
    example = "'ftp://user:password@host:21/path'"
    if not url or not isinstance(url, str):
        raise ImproperlyConfigured(f"FTPStorage needs a server URL: set {where}, e.g. {example}.")
    if "?" in url or "#" in url:
        raise ImproperlyConfigured(f"{bad} ({mask(url)!r}): '?' and '#' are not allowed; percent-encode "
                                   "them in the user name or password (%3F, %23).")
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:  # never quote the URL: the text after ':' may be a password missing its '@'
        raise ImproperlyConfigured(
            f"{bad}: the port of host {parts.hostname!r} must be a number from 1 to 65535, e.g. {example}."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ImproperlyConfigured(f"{bad} ({mask(url)!r}): the scheme must be ftp://, ftps:// (explicit TLS) "
                                   f"or aftp:// (active mode), e.g. {example}.")
    if not parts.hostname:
        raise ImproperlyConfigured(f"{bad} ({mask(url)!r}): no host name, e.g. {example}.")
    path = unquote(parts.path)
    if len(path) > 1:
        path = path.rstrip("/")
    server = Server(scheme, parts.hostname, port or 21, unquote(parts.username or ""), path)
    password = unquote(parts.password) if parts.password is not None else None
    return server, password


def _code(exc: BaseException) -> int:
    match = re.match(r"\s*(\d{3})", str(exc))
    return int(match.group(1)) if match else 0


def _dropped(exc: BaseException) -> bool:
    """The control connection is gone (server restarted, idle timeout, network)."""
    if isinstance(exc, (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError)):
        return False
    return isinstance(exc, (EOFError, OSError)) or (isinstance(exc, ftplib.error_temp) and _code(exc) == 421)


def _reusable(exc: BaseException) -> bool:
    """After ``exc`` the control connection is still in a known state."""
    if isinstance(exc, (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError)):
        return True
    return isinstance(exc, (ftplib.error_perm, ftplib.error_temp)) and _code(exc) != 421


def _parse_time(value: str) -> datetime | None:
    match = re.match(r"(\d{14})(?:\.(\d+))?$", value.strip())
    if not match:
        return None
    stamp = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)
    if match.group(2):
        stamp = stamp.replace(microsecond=int(match.group(2)[:6].ljust(6, "0")))
    return stamp


class _FTPS(ftplib.FTP_TLS):
    """FTP_TLS that resumes the control channel's TLS session on data channels
    (servers such as vsftpd and FileZilla require it)."""

    def ntransfercmd(self, cmd: str, rest: Any = None) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            session = getattr(self.sock, "session", None)
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


class _Pool:
    """Logged-in control connections; each is used by one thread at a time."""

    def __init__(self, connect: Callable[[], ftplib.FTP]) -> None:
        self.connect = connect
        self._idle: list[tuple[ftplib.FTP, float]] = []  # (connection, when it was last used)
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def get(self) -> ftplib.FTP:
        while True:
            with self._lock:
                if self._pid != os.getpid():  # forked: the parent's sockets are not ours
                    self._idle, self._pid = [], os.getpid()
                conn, used = self._idle.pop() if self._idle else (None, 0.0)
            if conn is None:
                return self.connect()
            if time.monotonic() - used < CHECK_AFTER:
                return conn
            try:
                conn.voidcmd("NOOP")
                return conn
            except (OSError, EOFError, ftplib.Error):
                _close(conn)

    def release(self, conn: ftplib.FTP, reusable: bool = True) -> None:
        if reusable:
            with self._lock:
                if len(self._idle) < MAX_IDLE and self._pid == os.getpid():
                    self._idle.append((conn, time.monotonic()))
                    return
            _quit(conn)
        else:
            _close(conn)

    def clear(self, *, log_out: bool = False) -> None:
        """Drop every idle connection: ``log_out`` politely, else without a word
        (when the server went away)."""
        with self._lock:
            idle, self._idle = self._idle, []
            same_process = self._pid == os.getpid()
        for conn, _ in idle:
            if log_out and same_process:
                _quit(conn)
            else:
                _close(conn)


def _quit(conn: ftplib.FTP) -> None:
    try:
        if conn.sock is not None:
            conn.sock.settimeout(2)  # never hang on a server that stopped answering
        conn.quit()
    except (OSError, EOFError, ftplib.Error):
        pass
    _close(conn)


def _close(conn: ftplib.FTP) -> None:
    try:
        conn.close()
    except OSError:
        pass


def _end_transfer(conn: ftplib.FTP, sock: socket.socket, *, clean: bool) -> bool:
    """Close a data connection and read the transfer's final reply.

    ``clean``: the transfer ran to its end, the reply must be 2xx (raises
    otherwise). Not clean: the transfer is cut short, any reply is accepted.
    Returns whether the control connection is still usable."""
    try:
        if clean and isinstance(sock, ssl.SSLSocket):
            sock.unwrap()
    finally:
        sock.close()
    if clean:
        conn.voidresp()
        return True
    previous = conn.sock.gettimeout() if conn.sock else None
    try:
        conn.sock.settimeout(5)
        conn.getresp()
    except (ftplib.error_temp, ftplib.error_perm):
        pass
    except (OSError, EOFError, ftplib.Error):
        return False
    finally:
        if conn.sock is not None:
            conn.sock.settimeout(previous)
    return True


class _ReadStream:
    """The RETR data connection; gives the control connection back at the end."""

    def __init__(self, pool: _Pool, conn: ftplib.FTP, sock: socket.socket) -> None:
        self._pool, self._conn, self._sock = pool, conn, sock

    def read(self, n: int = -1) -> bytes:
        if self._sock is None:
            return b""
        if n is None or n < 0:
            return b"".join(iter(lambda: self.read(1 << 20), b""))
        data = self._sock.recv(n) if n else b""
        if n and not data:
            self._finish(clean=True)
        return data

    def _finish(self, *, clean: bool) -> None:
        conn, sock, self._conn, self._sock = self._conn, self._sock, None, None
        if conn is None or sock is None:
            return
        reusable = False
        try:
            reusable = _end_transfer(conn, sock, clean=clean)
        finally:
            self._pool.release(conn, reusable)

    def close(self) -> None:
        self._finish(clean=False)


class FTPUpload(Upload):
    """Streams STOR to a hidden temporary name, renamed onto the key on commit."""

    def __init__(self, storage: FTPStorage, key: str, create_only: bool) -> None:
        self.storage, self.key, self.create_only = storage, key, create_only
        directory = posixpath.dirname(key)
        self.temp = posixpath.join(directory, f".storages-{uuid.uuid4().hex}.part")
        self._conn: ftplib.FTP | None = None
        self._sock: socket.socket | None = None
        self._started = self._done = False

    def _start(self) -> None:
        self._started = True
        self._conn, self._sock = self.storage._run(lambda ftp: self.storage._stor(ftp, self.temp), hold=True)

    def write_part(self, data: bytes) -> None:
        if self._sock is None:
            if self.create_only and self.storage._run(lambda ftp: self.storage._exists_on(ftp, self.key)):
                raise FileExistsError(f"{self.key} exists")  # fail before sending gigabytes
            self._start()
        self._sock.sendall(data)  # type: ignore[union-attr]

    def commit(self, tail: bytes) -> None:
        if self._sock is None:
            self._start()
        conn, sock = self._conn, self._sock
        assert conn is not None and sock is not None
        try:
            if tail:
                sock.sendall(tail)
            self._sock = None
            _end_transfer(conn, sock, clean=True)
            # Threads of this process take turns between check and rename (see unsupported["create_only"]).
            with _RENAME_LOCKS[hash((self.storage._server, self.key)) % len(_RENAME_LOCKS)]:
                if self.create_only and self.storage._exists_on(conn, self.key):
                    raise FileExistsError(f"{self.key} exists")
                self.storage._rename(conn, self.temp, self.key, overwrite=not self.create_only)
        except BaseException as exc:
            if self._sock is None and not _reusable(exc):
                self._conn = None  # abort() must not reuse a broken connection
                _close(conn)
            raise
        self._done, self._conn = True, None
        self.storage._pool.release(conn)

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        conn, sock, self._conn, self._sock = self._conn, self._sock, None, None
        if conn is not None:
            reusable = _end_transfer(conn, sock, clean=False) if sock is not None else True
            self.storage._pool.release(conn, reusable)
        if self._started:
            try:
                self.storage._run(lambda ftp: self.storage._delete_on(ftp, self.temp))
            except (OSError, EOFError, ftplib.Error) as exc:
                logger.warning("Could not delete the partial upload %s on %s: %s",
                               self.temp, self.storage.endpoint(), exc)


class FTPStorage(BaseStorage):
    """Files on an FTP or FTPS server."""

    options = (
        _LOCATION_OPTION,
        Option("password", ("FTP_STORAGE_PASSWORD",), secret=True),
        Option("base_url", ("BASE_URL", "MEDIA_URL")),
        Option("encoding", ("FTP_STORAGE_ENCODING",), default="utf-8"),
        Option("file_overwrite", ("FTP_ALLOW_OVERWRITE",), default=False, aliases=("allow_overwrite",),
               convert=to_bool),
        Option("timeout", ("FTP_STORAGE_TIMEOUT",), default=30.0, convert=float),
        Option("ca_file", ("FTP_STORAGE_CA_FILE",)),
        Option("tls_verify", ("FTP_STORAGE_TLS_VERIFY",), default=True, convert=to_bool),
    )
    unsupported = {
        "signed_urls": "FTP has no signed links; url() joins BASE_URL and the name",
        "fetchable_urls": "url() points into BASE_URL (default MEDIA_URL), which this project does not serve",
        "created_time": "FTP servers report only a modification time (MLST modify / MDTM)",
        "accessed_time": "FTP servers report only a modification time (MLST modify / MDTM)",
        "create_only": "FTP has no create-exclusive rename: RNTO replaces an existing file on most servers, "
                       "so a file created by another process or client between the existence check (MLST) "
                       "and the rename can be replaced (threads of one process are serialised)",
    }
    part_size = 1024 * 1024
    chunk_size = 1024 * 1024

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self._config_error is not None:
            raise self._config_error

    def _options_changed(self) -> None:
        super()._options_changed()
        # A bad LOCATION fails the constructor; after a settings change it fails the next use.
        self._config_error: ImproperlyConfigured | None = None
        try:
            self._server_, url_password = parse_location(self.location)
        except ImproperlyConfigured as exc:
            self._config_error = exc
            self.location = mask(self.location) if isinstance(self.location, str) else self.location
            return
        if url_password is not None:
            self.password = url_password
        self.location = strip_password(self.location.strip())  # never keep the password in a public option
        self._mlsd = self._mlst = True
        old = getattr(self, "_pool", None)
        if old is not None:
            old.clear(log_out=True)
        self._pool = _Pool(_connector(self._server, self.password, self.timeout, self.encoding,
                                      self.ca_file, self.tls_verify))
        weakref.finalize(self, self._pool.clear, log_out=True)

    @property
    def _server(self) -> Server:
        if self._config_error is not None:
            raise self._config_error
        return self._server_

    @property
    def root(self) -> str:
        return self._server.path

    def endpoint(self) -> str:
        return self._server.url() if self._config_error is None else "FTPStorage (misconfigured)"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.endpoint()}>"

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        if isinstance(state["kwargs"].get("location"), str):
            state["kwargs"]["location"] = strip_password(state["kwargs"]["location"])
        return state

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """For migrations: never write the password of a LOCATION kwarg into a file."""
        path, args, kwargs = super().deconstruct()
        if isinstance(kwargs.get("location"), str):
            kwargs = {**kwargs, "location": strip_password(kwargs["location"])}
        return path, args, {k: v for k, v in kwargs.items() if k not in self._secret_names()}

    def close(self) -> None:
        """Log out of every idle connection (open files keep theirs until closed)."""
        self._pool.clear(log_out=True)

    # -- connection use ------------------------------------------------------------
    def _run(self, fn: Callable[[ftplib.FTP], T], *, hold: bool = False) -> Any:
        """Run ``fn`` on a pooled connection, once more on a new one if the old one
        had been dropped. ``hold``: return ``(connection, result)`` without releasing."""
        conn = self._pool.get()
        for attempt in (1, 2):
            try:
                result = fn(conn)
            except BaseException as exc:
                if attempt == 1 and _dropped(exc):
                    _close(conn)
                    self._pool.clear()  # the others are most likely dead too
                    conn = self._pool.connect()
                    continue
                self._pool.release(conn, _reusable(exc))
                raise
            if hold:
                return conn, result
            self._pool.release(conn)
            return result
        raise AssertionError("unreachable")

    def _stat_on(self, ftp: ftplib.FTP, key: str) -> ObjectInfo:
        if self._mlst:
            try:
                reply = ftp.sendcmd(f"MLST {key}")
            except ftplib.error_perm as exc:
                if _code(exc) not in (500, 502):
                    raise self._missing(exc, key)
                self._mlst = False
            else:
                facts = _mlst_facts(reply)
                modified = _parse_time(facts.get("modify", ""))
                if facts.get("type", "file").lower() in ("dir", "cdir", "pdir"):
                    return ObjectInfo(modified=modified)  # exists, but has no size
                if facts.get("size", "").isdigit():
                    return ObjectInfo(size=int(facts["size"]), modified=modified)
        try:
            size = ftp.size(key)
        except ftplib.error_perm as exc:
            raise self._missing(exc, key)
        try:
            modified = _parse_time(ftp.sendcmd(f"MDTM {key}")[4:])
        except ftplib.error_perm:
            modified = None
        return ObjectInfo(size=size, modified=modified)

    def _missing(self, exc: ftplib.Error, key: str) -> BaseException:
        return FileNotFoundError(f"{key}: {exc}") if _is_missing(exc) else exc

    def _exists_on(self, ftp: ftplib.FTP, key: str) -> bool:
        try:
            self._stat_on(ftp, key)
        except FileNotFoundError:
            return False
        return True

    def _stor(self, ftp: ftplib.FTP, key: str) -> socket.socket:
        """Open a STOR data connection, creating the directories on the way if needed."""
        try:
            return ftp.transfercmd(f"STOR {key}")
        except ftplib.error_perm as exc:
            if _code(exc) not in (550, 553) or _is_denied(exc):
                raise
        self._makedirs(ftp, posixpath.dirname(key))
        return ftp.transfercmd(f"STOR {key}")

    def _makedirs(self, ftp: ftplib.FTP, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        prefix = "/" if path.startswith("/") else ""
        for i in range(1, len(parts) + 1):
            try:
                ftp.mkd(prefix + "/".join(parts[:i]))
            except ftplib.error_perm:
                pass  # exists already (or a real error, which the STOR retry reports)

    def _rename(self, ftp: ftplib.FTP, source: str, target: str, *, overwrite: bool) -> None:
        try:
            ftp.rename(source, target)
        except ftplib.error_perm as exc:
            # Some servers (IIS) refuse to rename over an existing file: "550 ... already exists".
            if not overwrite or "exist" not in str(exc).lower() or not self._exists_on(ftp, target):
                raise
            ftp.delete(target)
            ftp.rename(source, target)

    def _delete_on(self, ftp: ftplib.FTP, key: str) -> None:
        try:
            ftp.delete(key)
        except ftplib.error_perm as exc:
            if _code(exc) != 550 or self._exists_on(ftp, key):
                raise

    # -- hooks -----------------------------------------------------------------------
    def _stat(self, key: str) -> ObjectInfo:
        return self._run(lambda ftp: self._stat_on(ftp, key))

    def _open_stream(self, key: str, start: int) -> tuple[Any, ObjectInfo]:
        def begin(ftp: ftplib.FTP) -> tuple[socket.socket | None, ObjectInfo]:
            # The first open learns the size; a reopen at an offset (a seek) reuses it.
            info = self._stat_on(ftp, key) if not start else ObjectInfo()
            if not start and info.size is None:
                raise IsADirectoryError(f"{key} is a directory")
            if info.size is not None and start >= info.size:
                return None, info
            try:
                return ftp.transfercmd(f"RETR {key}", rest=start or None), info
            except ftplib.error_perm as exc:
                raise self._missing(exc, key)

        conn, (sock, info) = self._run(begin, hold=True)
        if sock is None:
            self._pool.release(conn)
            return io.BytesIO(), info
        return _ReadStream(self._pool, conn, sock), info

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        return FTPUpload(self, key, create_only)

    def _delete(self, key: str) -> None:
        self._run(lambda ftp: self._delete_on(ftp, key))

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        path = prefix[:-1] if len(prefix) > 1 and prefix.endswith("/") else prefix
        try:
            entries = self._run(lambda ftp: self._list_on(ftp, path))
        except FileNotFoundError:
            return [], []
        dirs = sorted(n for n, is_dir in entries if is_dir)
        files = sorted(n for n, is_dir in entries if not is_dir)
        return dirs, files

    def _list_on(self, ftp: ftplib.FTP, path: str) -> list[tuple[str, bool]]:
        entries: list[tuple[str, bool] | None]
        try:
            if self._mlsd:
                try:
                    lines = _listing(ftp, f"MLSD {path}" if path else "MLSD")
                    entries = [_parse_mlsd_line(line) for line in lines]
                except ftplib.error_perm as exc:
                    if _code(exc) not in (500, 502):
                        raise
                    self._mlsd = False
            if not self._mlsd:
                entries = [_parse_list_line(line) for line in _listing(ftp, f"LIST {path}" if path else "LIST")]
        except ftplib.error_perm as exc:
            raise self._missing(exc, path)
        return [(n, d) for n, d in filter(None, entries) if n not in (".", "..") and not TEMP_PATTERN.match(n)]

    def url(self, name: str) -> str:
        self._key(name)  # refuse names that escape the root
        base = self.base_url
        if base is None:
            raise ValueError("This file is not accessible via a URL: set BASE_URL (or MEDIA_URL).")
        if base and not base.endswith("/"):
            base += "/"
        return urljoin(base, filepath_to_uri(clean_name(name)))

    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        where = self.endpoint()
        if isinstance(exc, ftplib.error_perm):
            code = _code(exc)
            if code in (530, 532):
                return PermissionError(f"FTP server {where} refused the login of {self._server.user!r}: {exc}")
            if _is_missing(exc):
                return FileNotFoundError(f"{name!r} not found on {where}: {exc}")
            if code == 552:
                return OSError(f"FTP server {where} is out of space storing {name!r}: {exc}")
            return PermissionError(f"FTP server {where} refused the operation on {name!r}: {exc}")
        if isinstance(exc, (ftplib.error_temp, ftplib.error_reply, ftplib.error_proto, EOFError, OSError)):
            return ServiceUnavailable(f"FTPStorage could not complete the operation on {name!r} at {where}: "
                                      f"{type(exc).__name__}: {exc}")
        return None


def _is_missing(exc: BaseException) -> bool:
    """A 'no such file' reply: 550/450, or another code whose text says so (pyftpdlib's
    MLSD answers 501 for a missing directory)."""
    text = str(exc).lower()
    if _is_denied(exc):
        return False
    return _code(exc) in (550, 450) or any(w in text for w in ("no such", "not found", "does not exist"))


def _is_denied(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("privilege", "permission", "denied", "not allowed"))


def _facts(text: str) -> dict[str, str]:
    """``type=file;size=3;modify=20240101120000;`` as a dict with lower-case keys."""
    return {k.lower(): v for k, _, v in (f.partition("=") for f in text.split(";") if f)}


def _mlst_facts(reply: str) -> dict[str, str]:
    """The facts of an MLST reply (``250-...`` / `` type=file;size=3; /path`` / ``250 End``)."""
    lines = [line[1:] for line in reply.splitlines() if line.startswith(" ")]
    return _facts(lines[0].partition(" ")[0]) if lines else {}


def _listing(ftp: ftplib.FTP, command: str) -> list[str]:
    """The lines of a listing, transferred in binary mode: ftplib's retrlines would switch
    the connection to ASCII (TYPE A), which corrupts later transfers and breaks SIZE."""
    sock = ftp.transfercmd(command)
    chunks = []
    try:
        while data := sock.recv(65536):
            chunks.append(data)
    except BaseException:
        _end_transfer(ftp, sock, clean=False)
        raise
    _end_transfer(ftp, sock, clean=True)
    return b"".join(chunks).decode(ftp.encoding, "replace").splitlines()


def _parse_mlsd_line(line: str) -> tuple[str, bool] | None:
    """(name, is_dir) from ``type=file;size=3;modify=...; name``; None for . and .."""
    facts_text, _, name = line.partition(" ")
    kind = _facts(facts_text).get("type", "file").lower()
    if not name or kind in ("cdir", "pdir"):
        return None
    return name, kind == "dir"


def _parse_list_line(line: str) -> tuple[str, bool] | None:
    """(name, is_dir) from a Unix or DOS style LIST line."""
    parts = line.split(None, 8)
    if len(parts) == 9 and parts[0][:1] in ("d", "-", "l"):
        name = parts[8]
        if parts[0][0] == "l":
            name = name.split(" -> ")[0]
        return name, parts[0][0] == "d"
    parts = line.split(None, 3)
    if len(parts) == 4 and re.match(r"\d\d-\d\d-\d\d", parts[0]):
        return parts[3], parts[2].upper() == "<DIR>"
    return None


def _connector(server: Server, password: str | None, timeout: float, encoding: str,
               ca_file: str | None, verify: bool) -> Callable[[], ftplib.FTP]:
    """A function that opens a logged-in connection (holds no reference to the storage)."""

    contexts: list[ssl.SSLContext] = []  # one for every connection: loading CA bundles is slow

    def tls_context() -> ssl.SSLContext:
        if not contexts:
            try:
                context = ssl.create_default_context(cafile=ca_file)
            except (OSError, ssl.SSLError) as exc:
                raise ImproperlyConfigured(f"FTP_STORAGE_CA_FILE (the 'ca_file' option) {ca_file!r} "
                                           f"could not be loaded: {exc}") from exc
            if not verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            contexts.append(context)
        return contexts[0]

    def connect() -> ftplib.FTP:
        ftp: ftplib.FTP
        if server.tls:
            ftp = _FTPS(context=tls_context(), timeout=timeout, encoding=encoding)
        else:
            ftp = ftplib.FTP(timeout=timeout, encoding=encoding)
        try:
            ftp.connect(server.host, server.port)
            try:
                ftp.login(server.user, password or "")
            except ftplib.error_perm as exc:
                raise PermissionError(f"FTP server {server.url()} refused the login of {server.user!r}: {exc}") from exc
            except ssl.SSLCertVerificationError as exc:  # a ValueError too: translate it here
                raise ServiceUnavailable(
                    f"The TLS certificate of {server.url()} is not trusted ({exc.verify_message}); set "
                    "FTP_STORAGE_CA_FILE (the 'ca_file' option) to the CA bundle that signed it") from exc
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()
            ftp.set_pasv(server.passive)
            ftp.voidcmd("TYPE I")
        except BaseException:
            _close(ftp)
            raise
        return ftp

    return connect


__all__ = ["FTPStorage", "FTPUpload", "Server", "mask", "parse_location"]
