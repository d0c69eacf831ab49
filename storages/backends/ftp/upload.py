"""FTP uploads: ``STOR`` to a hidden temporary name, renamed onto the key. The order
of the steps and the clean-up are the core's StagedUpload; this says how FTP does each."""

from __future__ import annotations

import ftplib
import posixpath
import socket
import threading
from typing import Any, Callable, Protocol

from storages.core import StagedUpload

from .connection import Pool, end_transfer, reusable
from .location import Server
from .replies import is_denied, reply_code

_RENAME_LOCKS = [threading.Lock() for _ in range(64)]


class FTPHost(Protocol):
    """What an upload needs of its storage (``FTPStorage`` provides it)."""

    _pool: Pool

    @property
    def _server(self) -> Server: ...

    def endpoint(self) -> str: ...

    def _run(self, fn: Callable[[ftplib.FTP], Any], *, hold: bool = False) -> Any: ...

    def _exists_on(self, ftp: ftplib.FTP, key: str) -> bool: ...

    def _delete_on(self, ftp: ftplib.FTP, key: str) -> bool: ...


class FTPUpload(StagedUpload):
    """One upload to ``key``, on a pooled connection held from STOR to RNTO."""

    def __init__(self, storage: FTPHost, key: str, create_only: bool) -> None:
        super().__init__(key, create_only=create_only, where=storage.endpoint())
        self.storage = storage
        self._conn: ftplib.FTP | None = None
        self._sock: socket.socket | None = None

    def _exists(self) -> bool:
        return self.storage._run(lambda ftp: self.storage._exists_on(ftp, self.key))

    def _open_temp(self) -> None:
        self._conn, self._sock = self.storage._run(self._stor, hold=True)

    def _stor(self, ftp: ftplib.FTP) -> socket.socket:
        """A STOR data connection to the temp name, creating the directories on the way if needed."""
        try:
            return ftp.transfercmd(f"STOR {self.temp}")
        except ftplib.error_perm as exc:
            if reply_code(exc) not in (550, 553) or is_denied(exc):
                raise
        _makedirs(ftp, posixpath.dirname(self.temp))
        return ftp.transfercmd(f"STOR {self.temp}")

    def _write(self, data: bytes) -> None:
        self._sock.sendall(data)  # type: ignore[union-attr]

    def _finish_temp(self, tail: bytes) -> None:
        assert self._conn is not None and self._sock is not None
        if tail:
            self._sock.sendall(tail)
        sock, self._sock = self._sock, None
        end_transfer(self._conn, sock, clean=True)

    def _place(self) -> None:
        conn = self._conn
        assert conn is not None
        # Threads of this process take turns between check and rename (see unsupported["create_only"]).
        with _RENAME_LOCKS[hash((self.storage._server, self.key)) % len(_RENAME_LOCKS)]:
            if self.create_only and self.storage._exists_on(conn, self.key):
                raise FileExistsError(f"{self.key} exists")
            self._rename(conn)

    def _rename(self, ftp: ftplib.FTP) -> None:
        try:
            ftp.rename(self.temp, self.key)
        except ftplib.error_perm as exc:
            # Some servers (IIS) refuse to rename over an existing file: "550 ... already exists".
            replaceable = not self.create_only and "exist" in str(exc).lower()
            if not replaceable or not self.storage._exists_on(ftp, self.key):
                raise
            ftp.delete(self.key)
            ftp.rename(self.temp, self.key)

    def _release(self, error: BaseException | None) -> None:
        conn, sock, self._conn, self._sock = self._conn, self._sock, None, None
        if conn is not None:
            if sock is not None:  # cut the transfer short
                usable = end_transfer(conn, sock, clean=False)
            else:
                usable = error is None or reusable(error)
            self.storage._pool.release(conn, usable)

    def _remove_temp(self) -> None:
        self.storage._run(lambda ftp: self.storage._delete_on(ftp, self.temp))


def _makedirs(ftp: ftplib.FTP, path: str) -> None:
    parts = [p for p in path.split("/") if p]
    prefix = "/" if path.startswith("/") else ""
    for i in range(1, len(parts) + 1):
        try:
            ftp.mkd(prefix + "/".join(parts[:i]))
        except ftplib.error_perm:
            pass  # exists already (or a real error, which the STOR retry reports)
