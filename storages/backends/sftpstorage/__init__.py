"""SFTP storage on paramiko (SEED.md, "SFTP").

One SSH connection per thread, checked before use and re-established after a
server restart (see ``.connection``). Host keys are verified against a
known-hosts file; an unknown key is refused unless
``SFTP_STORAGE_ACCEPT_UNKNOWN_HOST_KEY`` opts in. Reads stream through a
bounded read-ahead window (``.transfer``); writes stream to a hidden temporary
name that is renamed into place (``.upload``).
"""

from __future__ import annotations

import stat
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urljoin

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
    to_int,
)
from storages.core.compat import BackendFile

from .connection import SFTPConnectionMixin, is_connection_error
from .transfer import ReadStream
from .upload import SFTPUpload


def to_mode(value: Any) -> int:
    """A permission mode: an int (``0o644``) or an octal string (``"644"``, ``"0o644"``)."""
    if isinstance(value, str):
        return int(value.strip().lower().removeprefix("0o"), 8)
    return int(value)


def _timestamp(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


class SFTPStorageFile(BackendFile):
    """What ``SFTPStorage.open()`` returns (upstream's ``SFTPStorageFile``)."""


class SFTPStorage(SFTPConnectionMixin, BaseStorage):
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
        "direct_uploads": "SFTP has no signed, expiring upload grants: a client that uploads needs the "
                          "account's own password or key",
    }
    part_size = 1024 * 1024
    sdk_modules, sdk_extra = ("paramiko",), "sftp"
    file_class = SFTPStorageFile
    #: Bytes of 32 KiB requests kept in flight while streaming a read / a write.
    read_window = 4 * 1024 * 1024
    write_window = 4 * 1024 * 1024

    def _options_changed(self) -> None:
        super()._options_changed()  # also drops every thread's connection
        self._posix_rename = True

    # -- where -----------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int((self.params or {}).get("port") or 22)

    def endpoint(self) -> str:
        user = (self.params or {}).get("username")
        return f"sftp://{user + '@' if user else ''}{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.endpoint()}{self.location or ''}>"

    # -- hooks -----------------------------------------------------------------------
    def _info(self, attrs: Any) -> ObjectInfo:
        return ObjectInfo(size=attrs.st_size, modified=_timestamp(attrs.st_mtime),
                          accessed=_timestamp(attrs.st_atime))

    def _stat(self, key: str) -> ObjectInfo:
        attrs = self._run(lambda sftp: sftp.stat(key))
        if stat.S_ISDIR(attrs.st_mode or 0):
            raise IsADirectoryError(f"{key!r} on {self.endpoint()} is a directory")
        return self._info(attrs)

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

        conn, (handle, attrs) = self._connections.holding(lambda conn: open_(conn.sftp))
        stream = ReadStream(handle, start, attrs.st_size, self.read_window)
        stream.conn = conn  # alive while the stream is
        return stream, self._info(attrs)

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        return SFTPUpload(self, key, create_only)

    def _delete(self, key: str) -> bool:
        def remove(sftp: Any) -> bool:
            try:
                sftp.remove(key)
                return True
            except FileNotFoundError:
                return False
            except OSError:
                if not stat.S_ISDIR(sftp.stat(key).st_mode or 0):
                    raise
            try:
                sftp.rmdir(key)  # only an empty directory
            except PermissionError:
                raise
            except OSError as exc:
                raise not_empty(key, self.endpoint()) from exc
            return True

        return self._run(remove)

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        path = prefix.rstrip("/") or ("/" if prefix.startswith("/") else ".")
        dirs, files = [], []
        for entry in self._run(lambda sftp: sftp.listdir_attr(path)):
            if is_temp_name(entry.filename):  # an upload in progress
                continue
            (dirs if stat.S_ISDIR(entry.st_mode or 0) else files).append(entry.filename)
        return sorted(dirs), sorted(files)

    def url(self, name: str) -> str:
        cleaned = clean_name(name)  # refuses names that escape, like every other call
        if self.base_url is None:
            raise ValueError("This file is not accessible via a URL: set SFTP_BASE_URL (or MEDIA_URL).")
        return urljoin(self.base_url, quote(cleaned))

    # -- errors -------------------------------------------------------------------------
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        import paramiko

        where = self.endpoint()
        if isinstance(exc, paramiko.BadHostKeyException):
            return self._host_key_mismatch(exc)
        if isinstance(exc, paramiko.AuthenticationException):
            user = (self.params or {}).get("username") or "(default user)"
            return PermissionError(
                f"SFTP authentication failed for user {user!r} at {where}: {exc} "
                "Check the password or key in SFTP_STORAGE_PARAMS."
            )
        if isinstance(exc, paramiko.SFTPError):
            return StorageError(f"SFTP protocol error from {where} on {name!r}: {exc}")
        if isinstance(exc, OSError) and not is_connection_error(exc) and exc.errno is None \
                and not isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
            return StorageError(f"SFTP server {where} refused the operation on {name!r}: {exc}")
        if isinstance(exc, (OSError, EOFError, paramiko.SSHException)):
            return ServiceUnavailable(f"SFTPStorage could not reach {where}: {exc}")
        return super().translate_error(exc, name)
