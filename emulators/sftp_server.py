"""A small SFTP server on paramiko: threaded, real auth, jailed in one directory.

:class:`SFTPServer` listens on 127.0.0.1, authenticates with a password or a
public key, and serves the SFTP subsystem through :class:`JailedSFTP`, which
maps the client's paths into a root directory the way OpenSSH's
``ChrootDirectory`` does (``/`` is the root) and refuses, itself, anything that
would leave it: ``..`` above ``/``, NUL, symlinks pointing outside (and the
creation of symlinks at all). It implements SFTP v3 ``RENAME`` without
overwrite (hard link + unlink, atomic, like OpenSSH's sftp-server) and the
``posix-rename@openssh.com`` extension (atomic replace). Every request and login
goes through the observation hooks (emulators/sftp_hooks.py): reported to the
hub, subject to its faults.
"""

from __future__ import annotations

import errno
import hmac
import io
import logging
import os
import selectors
import socket
import stat
import threading
from typing import Any

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServerInterface
from paramiko.sftp import (
    SFTP_FAILURE,
    SFTP_NO_SUCH_FILE,
    SFTP_OK,
    SFTP_OP_UNSUPPORTED,
    SFTP_PERMISSION_DENIED,
)

from .observe import HUB
from .ops import DIRECT_USER, Call
from .sftp_hooks import Session, flip, read_with_faults, write_limit

log = logging.getLogger(__name__)
#: paramiko logs every client that disconnects early (health checks included)
#: as an ERROR with a traceback; the server's transports log here instead,
#: quiet unless a user lowers the level.
TRANSPORT_LOG = "emulators.sftp_server.transport"
if logging.getLogger(TRANSPORT_LOG).level == logging.NOTSET:
    logging.getLogger(TRANSPORT_LOG).setLevel(logging.CRITICAL)


def generate_ed25519() -> tuple[paramiko.PKey, str]:
    """A new Ed25519 key as a paramiko key and its OpenSSH private-key text."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    return paramiko.Ed25519Key(file_obj=io.StringIO(text)), text


class _Refused(Exception):
    """A path that would leave the jail."""


def _status(exc: OSError) -> int:
    if exc.errno in (errno.EACCES, errno.EPERM):
        return SFTP_PERMISSION_DENIED
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return SFTP_NO_SUCH_FILE
    return SFTP_FAILURE


def _apply_attr(attr: SFTPAttributes, fd: int | None = None, path: str | None = None) -> None:
    """Apply mode/owner/times/size from ``attr`` to an open fd (or a path)."""
    target: Any = fd if fd is not None else path
    flags = attr._flags
    if flags & attr.FLAG_PERMISSIONS:
        os.chmod(target, stat.S_IMODE(attr.st_mode))
    if flags & attr.FLAG_UIDGID:
        os.chown(target, attr.st_uid, attr.st_gid)
    if flags & attr.FLAG_AMTIME:
        os.utime(target, (attr.st_atime, attr.st_mtime))
    if flags & attr.FLAG_SIZE:
        os.truncate(target, attr.st_size)


class _Handle(SFTPHandle):
    """An open file, read and written with pread/pwrite on its descriptor."""

    def __init__(self, fd: int, flags: int, path: str = "", session: Session | None = None) -> None:
        super().__init__(flags)
        self.fd = fd
        self.path = path
        self.session = session or Session()

    def _close_fd(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def close(self) -> None:
        if self.fd >= 0 and not self.session.dropped:
            self.session.run("close", self.path, lambda fault: self._close_fd())
        self._close_fd()  # also when a fault kept the request from running

    def read(self, offset: int, length: int) -> bytes | int:
        def do(fault: Any) -> bytes | int:
            try:
                data = os.pread(self.fd, length, offset)
            except OSError as exc:
                return _status(exc)
            return read_with_faults(self.session, data, offset, fault)

        return self.session.run("read", self.path, do, span=(offset, length),
                                bytes_out=lambda result: len(result) if isinstance(result, bytes) else 0)

    def write(self, offset: int, data: bytes) -> int:
        written_total = [0]

        def do(fault: Any) -> int:
            part = write_limit(data, offset, fault)
            try:
                view, at = memoryview(flip(data, offset, fault) if part is None else part), offset
                while view:
                    written = os.pwrite(self.fd, view, at)
                    view, at = view[written:], at + written
                    written_total[0] += written
            except OSError as exc:
                return _status(exc)
            if part is not None:
                self.session.defer_drop()  # the connection drops at byte K of the upload
                return SFTP_FAILURE
            return SFTP_OK

        return self.session.run("write", self.path, do, span=(offset, len(data)),
                                bytes_in=lambda result: written_total[0])

    def stat(self) -> SFTPAttributes | int:
        def do(fault: Any) -> SFTPAttributes | int:
            try:
                return SFTPAttributes.from_stat(os.fstat(self.fd))
            except OSError as exc:
                return _status(exc)

        return self.session.run("fstat", self.path, do)

    def chattr(self, attr: SFTPAttributes) -> int:
        def do(fault: Any) -> int:
            try:
                _apply_attr(attr, fd=self.fd)
            except OSError as exc:
                return _status(exc)
            return SFTP_OK

        return self.session.run("fchattr", self.path, do)


class JailedSFTP(SFTPServerInterface):
    """SFTP requests served from ``root``; nothing outside it is reachable."""

    def __init__(self, server: Any, *args: Any, root: str, hooks: Any = None, transport: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.root = os.path.realpath(root)
        self.hooks = hooks
        self.session = Session(transport)

    # -- the jail ------------------------------------------------------------
    @staticmethod
    def virtual(path: str) -> str:
        """The client's path as an absolute path inside the jail; refuses escapes."""
        if "\x00" in path:
            raise _Refused(path)
        parts: list[str] = []
        for segment in path.split("/"):
            if segment in ("", "."):
                continue
            if segment == "..":
                if not parts:
                    raise _Refused(path)
                parts.pop()
            else:
                parts.append(segment)
        return "/" + "/".join(parts)

    def _inside(self, real: str) -> bool:
        return real == self.root or real.startswith(self.root + os.sep)

    def real(self, path: str, *, follow: bool = True) -> str:
        """The filesystem path for a client path, checked against the jail.

        ``follow`` checks where symlinks lead; otherwise only the parent is
        resolved (for operations on a link itself)."""
        virtual = self.virtual(path)
        real = os.path.join(self.root, *[p for p in virtual.split("/") if p])
        resolved = os.path.realpath(real) if follow else os.path.join(
            os.path.realpath(os.path.dirname(real)), os.path.basename(real))
        if not self._inside(resolved) and real != self.root:
            raise _Refused(path)
        return real

    def _run(self, op: str, func: Any, *args: Any) -> Any:
        if self.hooks is not None:
            injected = self.hooks(op, *args)
            if injected is not None:
                return injected

        def do(fault: Any) -> Any:
            try:
                return func(*args)
            except _Refused:
                log.info("sftp: refused %s outside the jail: %r", op, args)
                return SFTP_PERMISSION_DENIED
            except OSError as exc:
                return _status(exc)

        key = args[1] if op in ("rename", "posix_rename") else args[0]
        return self.session.run(op, key if isinstance(key, str) else "", do)

    # -- SFTPServerInterface ---------------------------------------------------
    def open(self, path: str, flags: int, attr: SFTPAttributes) -> Any:
        def do(path: str, flags: int, attr: SFTPAttributes) -> Any:
            real = self.real(path)
            mode = 0o666
            if attr is not None and attr._flags & attr.FLAG_PERMISSIONS:
                mode = stat.S_IMODE(attr.st_mode)
            fd = os.open(real, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
            try:
                if stat.S_ISDIR(os.fstat(fd).st_mode):
                    raise IsADirectoryError(errno.EISDIR, "is a directory", path)
                if flags & os.O_CREAT and attr is not None:
                    attr._flags &= ~attr.FLAG_PERMISSIONS
                    _apply_attr(attr, fd=fd)
            except BaseException:
                os.close(fd)
                raise
            return _Handle(fd, flags, self.virtual(path), self.session)

        return self._run("open", do, path, flags, attr)

    def list_folder(self, path: str) -> Any:
        def do(path: str) -> list[SFTPAttributes]:
            entries = []
            with os.scandir(self.real(path)) as it:
                for entry in it:
                    entries.append(SFTPAttributes.from_stat(entry.stat(follow_symlinks=False), entry.name))
            return entries

        return self._run("list_folder", do, path)

    def stat(self, path: str) -> Any:
        return self._run("stat", lambda p: SFTPAttributes.from_stat(os.stat(self.real(p))), path)

    def lstat(self, path: str) -> Any:
        return self._run("lstat", lambda p: SFTPAttributes.from_stat(os.lstat(self.real(p, follow=False))),
                         path)

    def remove(self, path: str) -> int:
        def do(path: str) -> int:
            os.remove(self.real(path, follow=False))
            return SFTP_OK

        return self._run("remove", do, path)

    def rename(self, oldpath: str, newpath: str) -> int:
        """SFTP v3 rename: fails if ``newpath`` exists (atomically, via a hard link)."""
        def do(oldpath: str, newpath: str) -> int:
            old, new = self.real(oldpath, follow=False), self.real(newpath, follow=False)
            try:
                os.link(old, new, follow_symlinks=False)
            except FileExistsError:
                return SFTP_FAILURE
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.ENOSYS):
                    raise
                # Directories (no hard links): the racy fallback OpenSSH also uses.
                if os.path.lexists(new):
                    return SFTP_FAILURE
                os.rename(old, new)
                return SFTP_OK
            os.unlink(old)
            return SFTP_OK

        return self._run("rename", do, oldpath, newpath)

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        def do(oldpath: str, newpath: str) -> int:
            os.replace(self.real(oldpath, follow=False), self.real(newpath, follow=False))
            return SFTP_OK

        return self._run("posix_rename", do, oldpath, newpath)

    def mkdir(self, path: str, attr: SFTPAttributes) -> int:
        def do(path: str, attr: SFTPAttributes) -> int:
            real = self.real(path, follow=False)
            mode = 0o777
            if attr is not None and attr._flags & attr.FLAG_PERMISSIONS:
                mode = stat.S_IMODE(attr.st_mode)
                attr._flags &= ~attr.FLAG_PERMISSIONS
            os.mkdir(real, mode)
            if attr is not None:
                _apply_attr(attr, path=real)
            return SFTP_OK

        return self._run("mkdir", do, path, attr)

    def rmdir(self, path: str) -> int:
        def do(path: str) -> int:
            os.rmdir(self.real(path, follow=False))
            return SFTP_OK

        return self._run("rmdir", do, path)

    def chattr(self, path: str, attr: SFTPAttributes) -> int:
        def do(path: str, attr: SFTPAttributes) -> int:
            _apply_attr(attr, path=self.real(path))
            return SFTP_OK

        return self._run("chattr", do, path, attr)

    def canonicalize(self, path: str) -> str:
        # An escape raises: paramiko answers SFTP_FAILURE.
        return self.session.run("canonicalize", path, lambda fault: self.virtual(path))

    def readlink(self, path: str) -> Any:
        def do(path: str) -> Any:
            target = os.readlink(self.real(path, follow=False))
            absolute = os.path.realpath(os.path.join(os.path.dirname(self.real(path, follow=False)), target))
            if not self._inside(absolute):
                raise _Refused(target)
            relative = os.path.relpath(absolute, self.root)
            return "/" if relative == "." else "/" + relative.replace(os.sep, "/")

        return self._run("readlink", do, path)

    def symlink(self, target_path: str, path: str) -> int:
        return SFTP_OP_UNSUPPORTED  # links are how jails are escaped: none are made here


class _Auth(paramiko.ServerInterface):
    """Password and public-key authentication against fixed credentials."""

    def __init__(self, users: dict[str, str], keys: dict[str, list[paramiko.PKey]],
                 session: Session | None = None) -> None:
        self.users = users
        self.keys = keys
        self.session = session or Session()

    def get_allowed_auths(self, username: str) -> str:
        return "publickey,password"

    def check_auth_password(self, username: str, password: str) -> int:
        expected = self.users.get(username)
        return self._login(username, "password", lambda: expected is not None and hmac.compare_digest(
            expected.encode(), password.encode()))

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return self._login(username, "publickey", lambda: any(
            allowed.get_name() == key.get_name() and allowed.asbytes() == key.asbytes()
            for allowed in self.keys.get(username, ())))

    def _login(self, username: str, method: str, check: Any) -> int:
        """A login, reported (status 0 accepted, 3 refused) and subject to ``login`` faults."""
        import time

        if username == DIRECT_USER:  # a client(direct=True) session: not observed
            return paramiko.AUTH_SUCCESSFUL if check() else paramiko.AUTH_FAILED
        fault = HUB.take_fault("sftp", "login", username)
        accepted, status, drop = False, None, False
        try:
            if fault is not None and fault.stall:
                time.sleep(fault.stall)
            if fault is not None and fault.status is not None:
                status = SFTP_PERMISSION_DENIED
            elif fault is not None and fault.reset_before is not None:
                drop = True
            else:
                accepted = bool(check())
                if fault is not None and (fault.reset_after is not None or fault.cut is not None):
                    drop = True
                else:
                    status = SFTP_OK if accepted else SFTP_PERMISSION_DENIED
        finally:
            if HUB.recording:
                HUB.record(Call("sftp", "login", username, status, request=f"login {method} {username}",
                                fault=fault.kind if fault else None))
        if drop:
            self.session.drop()
        return paramiko.AUTH_SUCCESSFUL if accepted else paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class SFTPServer:
    """Serves ``root`` over SFTP on 127.0.0.1, one thread per connection.

    ``start(port)`` binds (``0`` for a free port; a former port again after
    ``stop()``), ``stop()`` closes the listener and every open connection.
    ``hooks(op, *args)``, if set, runs before each file operation and may return
    an SFTP status code to answer instead (fault injection)."""

    def __init__(self, root: str, host_key: paramiko.PKey, users: dict[str, str],
                 keys: dict[str, list[paramiko.PKey]] | None = None, host: str = "127.0.0.1") -> None:
        self.root = root
        self.host = host
        self.host_key = host_key
        self.auth = _Auth(users, keys or {})
        self.hooks: Any = None
        self.port: int | None = None
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._transports: set[paramiko.Transport] = set()
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, port: int = 0) -> int:
        if self.running:
            return self.port  # type: ignore[return-value]
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, port))
        except OSError:
            listener.close()
            raise
        listener.listen(64)
        HUB.note_serving()
        listener.setblocking(False)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._accept_loop, name=f"sftp-server-{self.port}",
                                        daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            transports, self._transports = list(self._transports), set()
        for transport in transports:
            transport.close()
        for transport in transports:
            transport.join(timeout=5)

    def drop_connections(self) -> None:
        """Close every client connection and keep listening (a network cut, as clients see it)."""
        with self._lock:
            transports, self._transports = list(self._transports), set()
        for transport in transports:
            transport.close()

    def connection_count(self) -> int:
        """Connections currently open (authenticated or not)."""
        with self._lock:
            self._transports = {t for t in self._transports if t.is_active()}
            return len(self._transports)

    def _accept_loop(self) -> None:
        assert self._listener is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if not selector.select(timeout=0.05):
                    continue
                try:
                    conn, _ = self._listener.accept()
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    if self._stopping.is_set():
                        return
                    raise
                conn.setblocking(True)
                # Replies are often a full packet plus a few bytes: without this,
                # Nagle and the client's delayed ACK add 40 ms to each synchronous read.
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        transport = paramiko.Transport(conn)
        transport.set_log_channel(TRANSPORT_LOG)
        transport.add_server_key(self.host_key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, JailedSFTP, root=self.root,
                                        hooks=self._hook, transport=transport)
        with self._lock:
            self._transports.add(transport)
        try:
            # Negotiation runs on the transport's own thread; this returns at once.
            transport.start_server(event=threading.Event(),
                                   server=_Auth(self.auth.users, self.auth.keys, Session(transport)))
        except (paramiko.SSHException, OSError, EOFError):
            transport.close()

    def _hook(self, op: str, *args: Any) -> Any:
        hooks = self.hooks
        return hooks(op, *args) if hooks is not None else None


__all__ = ["JailedSFTP", "SFTPServer", "generate_ed25519"]
