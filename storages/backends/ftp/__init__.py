"""FTP and FTPS storage on ``ftplib``.

``LOCATION`` is a URL: ``ftp://user:password@host:port/path`` (``ftps://`` for
explicit TLS with a protected data channel, ``aftp://`` for active mode). Reads
stream the ``RETR`` data connection (``REST`` for offsets), writes stream
``STOR`` to a temporary name in the target directory that is renamed into place
on commit, so a failed upload never leaves a partial file under the name.
Connections are pooled, checked with ``NOOP`` after idling, re-established when
the server went away, and each is used by one thread at a time.

The URL lives in ``.location``, connections in ``.connection``, reply
parsing in ``.replies``, uploads in ``.upload``; this module is the storage
and its hooks.
"""

from __future__ import annotations

import errno
import ftplib
import io
import socket
import weakref
from typing import Any, Callable, TypeVar
from urllib.parse import urljoin

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.utils.encoding import filepath_to_uri

from storages.core import (
    BaseStorage,
    ObjectInfo,
    Option,
    ServiceUnavailable,
    StorageError,
    Upload,
    clean_name,
    is_temp_name,
    not_empty,
    to_bool,
)
from storages.core.compat import BackendFile

from .connection import Pool, ReadStream, connector, listing, login_refused
from .location import LOCATION_OPTION, Server, mask, parse_location, strip_password
from .replies import (
    is_bad_name,
    is_denied,
    is_missing,
    mlst_facts,
    not_implemented,
    parse_list_line,
    parse_mlsd_line,
    parse_time,
    reply_code,
)
from .upload import FTPUpload

T = TypeVar("T")

#: An idle pooled connection older than this (seconds) is checked with NOOP before use.
#: Read at every use, so it can be changed at run time (tests do).
CHECK_AFTER = 15.0


def _check_after() -> float:
    return CHECK_AFTER


def _raise_if_missing(exc: ftplib.Error, key: str) -> None:
    """Raise FileNotFoundError if ``exc`` is a 'no such file' reply (the hooks and the
    existence checks of uploads need it before translate_error sees anything)."""
    if is_missing(exc):
        raise FileNotFoundError(f"{key}: {exc}") from exc


class FTPStorageException(Exception):
    """Upstream's error. This backend raises Django/Python errors instead; ``except
    FTPStorageException`` still catches them (every ``OSError`` the storage raises is one)."""


class FTPStorageFile(BackendFile):
    """What ``FTPStorage.open()`` returns (upstream's ``FTPStorageFile``)."""


class FTPStorage(BaseStorage):
    """Files on an FTP or FTPS server."""

    options = (
        LOCATION_OPTION,
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
        "direct_uploads": "FTP has no signed, expiring upload grants: a client that uploads needs the "
                          "account's own credentials",
    }
    part_size = 1024 * 1024
    chunk_size = 1024 * 1024
    file_class = FTPStorageFile
    legacy_error = FTPStorageException

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
        self._pool = Pool(connector(self._server, self.password, self.timeout, self.encoding,
                                    self.ca_file, self.tls_verify), check_after=_check_after)
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

    def _without_secrets(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Pickles and migrations never carry the password of a LOCATION keyword."""
        kwargs = super()._without_secrets(kwargs)
        if isinstance(kwargs.get("location"), str):
            kwargs["location"] = strip_password(kwargs["location"])
        return kwargs

    def close(self) -> None:
        """Log out of every idle connection (open files keep theirs until closed)."""
        self._pool.clear(log_out=True)

    disconnect = close  # upstream's name

    # -- connection use ------------------------------------------------------------
    def _run(self, fn: Callable[[ftplib.FTP], T], *, hold: bool = False) -> Any:
        """``fn`` on a pooled connection, reconnecting once if it had been dropped.
        ``hold``: return ``(connection, result)``, the caller gives the connection back."""
        return self._pool.holding(fn) if hold else self._pool.run(fn)

    def _stat_on(self, ftp: ftplib.FTP, key: str) -> ObjectInfo:
        if self._mlst:
            try:
                reply = ftp.sendcmd(f"MLST {key}")
            except ftplib.error_perm as exc:
                if not not_implemented(exc):
                    _raise_if_missing(exc, key)
                    raise
                self._mlst = False
            else:
                facts = mlst_facts(reply)
                modified = parse_time(facts.get("modify", ""))
                if facts.get("type", "file").lower() in ("dir", "cdir", "pdir"):
                    raise IsADirectoryError(f"{key} is a directory")
                if facts.get("size", "").isdigit():
                    return ObjectInfo(size=int(facts["size"]), modified=modified)
        try:
            size = ftp.size(key)
        except ftplib.error_perm as exc:
            _raise_if_missing(exc, key)
            raise
        try:
            modified = parse_time(ftp.sendcmd(f"MDTM {key}")[4:])
        except ftplib.error_perm:
            modified = None
        return ObjectInfo(size=size, modified=modified)

    def _exists_on(self, ftp: ftplib.FTP, key: str) -> bool:
        try:
            self._stat_on(ftp, key)
        except FileNotFoundError:
            return False
        except IsADirectoryError:
            return True
        return True

    def _delete_on(self, ftp: ftplib.FTP, key: str) -> bool:
        """Delete a file, or an empty directory; say whether there was one."""
        try:
            ftp.delete(key)
            return True
        except ftplib.error_perm as exc:
            if reply_code(exc) != 550:
                raise
            try:
                self._stat_on(ftp, key)
            except FileNotFoundError:
                return False
            except IsADirectoryError:
                pass
            else:
                raise  # a file the server will not delete
        try:
            ftp.rmd(key)
        except ftplib.error_perm as exc:
            if is_denied(exc):
                raise
            raise not_empty(key, self.endpoint()) from exc
        return True

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
                _raise_if_missing(exc, key)
                raise

        conn, (sock, info) = self._run(begin, hold=True)
        if sock is None:
            self._pool.release(conn)
            return io.BytesIO(), info
        return ReadStream(self._pool, conn, sock), info

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        return FTPUpload(self, key, create_only)

    def _delete(self, key: str) -> bool:
        return self._run(lambda ftp: self._delete_on(ftp, key))

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        path = prefix[:-1] if len(prefix) > 1 and prefix.endswith("/") else prefix
        entries = self._run(lambda ftp: self._list_on(ftp, path))
        dirs = sorted(n for n, is_dir in entries if is_dir)
        files = sorted(n for n, is_dir in entries if not is_dir)
        return dirs, files

    def _list_on(self, ftp: ftplib.FTP, path: str) -> list[tuple[str, bool]]:
        entries: list[tuple[str, bool] | None]
        try:
            if self._mlsd:
                try:
                    lines = listing(ftp, f"MLSD {path}" if path else "MLSD")
                    entries = [parse_mlsd_line(line) for line in lines]
                except ftplib.error_perm as exc:
                    if not not_implemented(exc):
                        raise
                    self._mlsd = False
            if not self._mlsd:
                entries = [parse_list_line(line) for line in listing(ftp, f"LIST {path}" if path else "LIST")]
        except ftplib.error_perm as exc:
            _raise_if_missing(exc, path)
            raise
        return [(n, d) for n, d in filter(None, entries)
                if n not in (".", "..") and not is_temp_name(n)]

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
            code = reply_code(exc)
            if code in (530, 532):
                return PermissionError(login_refused(self._server, exc))
            if is_bad_name(exc):
                return SuspiciousFileOperation(f"FTP server {where} refuses the name {name!r}: {exc}")
            if is_missing(exc):
                return FileNotFoundError(f"{name!r} not found on {where}: {exc}")
            if code == 552:
                return StorageError(errno.ENOSPC, f"FTP server {where} is out of space for {name!r}: {exc}")
            return PermissionError(f"FTP server {where} refused the operation on {name!r}: {exc}")
        if isinstance(exc, (ftplib.error_temp, ftplib.error_reply, ftplib.error_proto, EOFError, OSError)):
            return ServiceUnavailable(f"FTPStorage could not complete the operation on {name!r} at {where}: "
                                      f"{type(exc).__name__}: {exc}")
        return super().translate_error(exc, name)


__all__ = ["FTPStorage", "FTPStorageException", "FTPStorageFile", "FTPUpload", "Server", "mask",
           "parse_location"]
