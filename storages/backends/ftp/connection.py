"""FTP control and data connections: logging in (plain or explicit TLS), a pool of
logged-in connections each used by one thread at a time, ``NOOP`` checks after
idling, what a dropped connection looks like (the core's Reconnecting retries
once), and ending data transfers so the control connection stays usable."""

from __future__ import annotations

import ftplib
import os
import socket
import ssl
import threading
import time
from typing import Any, Callable

from django.core.exceptions import ImproperlyConfigured

from storages.core import Reconnecting, ServiceUnavailable

from .location import Server
from .replies import reply_code

#: Most idle connections kept per storage.
MAX_IDLE = 8
#: What a broken or closed connection raises.
CONNECTION_ERRORS = (OSError, EOFError, ftplib.Error)
#: Raised by our own code on a connection that is fine (some are OSErrors too).
_OWN_ERRORS = (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError)


def dropped(exc: BaseException) -> bool:
    """The control connection is gone (server restarted, idle timeout, network)."""
    if isinstance(exc, _OWN_ERRORS):
        return False
    if isinstance(exc, ftplib.error_temp):
        return reply_code(exc) == 421  # "service not available, closing control connection"
    return isinstance(exc, (EOFError, OSError))


def reusable(exc: BaseException) -> bool:
    """After ``exc`` the control connection is still in a known state."""
    if isinstance(exc, _OWN_ERRORS):
        return True
    return isinstance(exc, (ftplib.error_perm, ftplib.error_temp)) and reply_code(exc) != 421


def quit_politely(conn: ftplib.FTP) -> None:
    """Log out (QUIT), never hanging on a server that stopped answering, then close."""
    try:
        if conn.sock is not None:
            conn.sock.settimeout(2)
        conn.quit()
    except CONNECTION_ERRORS:
        pass
    close_quietly(conn)


def close_quietly(conn: ftplib.FTP) -> None:
    try:
        conn.close()
    except OSError:
        pass


class Pool(Reconnecting[ftplib.FTP]):
    """Logged-in control connections; each is used by one thread at a time.

    ``check_after()``: seconds of idling after which a connection is checked with NOOP."""

    def __init__(self, connect: Callable[[], ftplib.FTP], check_after: Callable[[], float]) -> None:
        self.connect = connect
        self.check_after = check_after
        self._idle: list[tuple[ftplib.FTP, float]] = []  # (connection, when it was last used)
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _acquire(self) -> ftplib.FTP:
        """An idle connection (checked with NOOP if it idled long enough) or a new one."""
        while True:
            with self._lock:
                if self._pid != os.getpid():  # forked: the parent's sockets are not ours
                    self._idle, self._pid = [], os.getpid()
                conn, used = self._idle.pop() if self._idle else (None, 0.0)
            if conn is None:
                return self.connect()
            if time.monotonic() - used < self.check_after():
                return conn
            try:
                conn.voidcmd("NOOP")
                return conn
            except CONNECTION_ERRORS:
                close_quietly(conn)

    def _dropped(self, conn: ftplib.FTP, error: Exception) -> bool:
        return dropped(error)

    def _reconnect(self, conn: ftplib.FTP, error: Exception) -> ftplib.FTP:
        close_quietly(conn)
        self.clear()  # the others are most likely dead too
        return self.connect()

    def _release(self, conn: ftplib.FTP, error: BaseException | None) -> None:
        self.release(conn, error is None or reusable(error))

    def release(self, conn: ftplib.FTP, reusable: bool = True) -> None:
        if reusable:
            with self._lock:
                if len(self._idle) < MAX_IDLE and self._pid == os.getpid():
                    self._idle.append((conn, time.monotonic()))
                    return
            quit_politely(conn)
        else:
            close_quietly(conn)

    def clear(self, *, log_out: bool = False) -> None:
        """Drop every idle connection: ``log_out`` politely, else without a word
        (when the server went away)."""
        with self._lock:
            idle, self._idle = self._idle, []
            same_process = self._pid == os.getpid()
        for conn, _ in idle:
            if log_out and same_process:
                quit_politely(conn)
            else:
                close_quietly(conn)


def end_transfer(conn: ftplib.FTP, sock: socket.socket, *, clean: bool) -> bool:
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
    except CONNECTION_ERRORS:
        return False
    finally:
        if conn.sock is not None:
            conn.sock.settimeout(previous)
    return True


class ReadStream:
    """The RETR data connection; gives the control connection back at the end."""

    def __init__(self, pool: Pool, conn: ftplib.FTP, sock: socket.socket) -> None:
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

    def readinto(self, buffer: Any) -> int:
        """Receive straight into ``buffer`` (the file's reads take this route: no bytes object per
        receive, no copy)."""
        if self._sock is None or not len(buffer):
            return 0
        count = self._sock.recv_into(buffer)
        if not count:
            self._finish(clean=True)
        return count

    def _finish(self, *, clean: bool) -> None:
        conn, sock, self._conn, self._sock = self._conn, self._sock, None, None
        if conn is None or sock is None:
            return
        usable = False
        try:
            usable = end_transfer(conn, sock, clean=clean)
        finally:
            self._pool.release(conn, usable)

    def close(self) -> None:
        self._finish(clean=False)


def listing(ftp: ftplib.FTP, command: str) -> list[str]:
    """The lines of a listing, transferred in binary mode: ftplib's retrlines would switch
    the connection to ASCII (TYPE A), which corrupts later transfers and breaks SIZE."""
    sock = ftp.transfercmd(command)
    chunks = []
    try:
        while data := sock.recv(65536):
            chunks.append(data)
    except BaseException:
        end_transfer(ftp, sock, clean=False)
        raise
    end_transfer(ftp, sock, clean=True)
    return b"".join(chunks).decode(ftp.encoding, "replace").splitlines()


class _FTPS(ftplib.FTP_TLS):
    """FTP_TLS that resumes the control channel's TLS session on data channels
    (servers such as vsftpd and FileZilla require it)."""

    def ntransfercmd(self, cmd: str, rest: Any = None) -> tuple[socket.socket, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            session = getattr(self.sock, "session", None)
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=session)
        return conn, size


def connector(server: Server, password: str | None, timeout: float, encoding: str,
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
                raise PermissionError(login_refused(server, exc)) from exc
            except ssl.SSLCertVerificationError as exc:  # a ValueError too: translate it here
                raise ServiceUnavailable(
                    f"The TLS certificate of {server.url()} is not trusted ({exc.verify_message}); set "
                    "FTP_STORAGE_CA_FILE (the 'ca_file' option) to the CA bundle that signed it") from exc
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()
            ftp.set_pasv(server.passive)
            ftp.voidcmd("TYPE I")
        except BaseException:
            close_quietly(ftp)
            raise
        return ftp

    return connect


def login_refused(server: Server, exc: BaseException) -> str:
    """The message for a refused login (also used by FTPStorage.translate_error)."""
    return f"FTP server {server.url()} refused the login of {server.user!r}: {exc}"
