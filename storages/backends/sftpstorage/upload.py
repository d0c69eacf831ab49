"""SFTP uploads: a hidden temporary file beside the target, written through a bounded
window, given its mode and owner, then moved into place with ``posix-rename`` (atomic
replace). A create-only save first claims the name with an exclusive create
(``O_CREAT|O_EXCL``, atomic on the server's filesystem) and then replaces its own empty
claim: it never relies on plain SFTP ``RENAME`` refusing an existing target, which
OpenSSH's sftp-server does atomically only where the filesystem has hard links (its
fallback, and other servers, check and then rename, or replace). The order of the steps
and the clean-up are the core's StagedUpload; this says how SFTP does each."""

from __future__ import annotations

import logging
import posixpath
import stat
from typing import Any, Callable, Protocol, TypeVar

from storages.core import Reconnecting, StagedUpload

from .paramiko_private import close_unwaited
from .transfer import WriteStream

T = TypeVar("T")
# The storage module's logger, so logging configured for it still applies.
logger = logging.getLogger("storages.backends.sftpstorage")
#: Tries to take a name that is refused and yet free (see ``_take_name``).
_TAKE_ATTEMPTS = 5


class SFTPHost(Protocol):
    """What an upload needs of its storage (``SFTPStorage`` provides it)."""

    _connections: Reconnecting[Any]
    _posix_rename: bool  # False once the server said it has no posix-rename
    write_window: int
    file_mode: int | None
    dir_mode: int | None
    uid: int | None
    gid: int | None

    def endpoint(self) -> str: ...

    def _run(self, func: Callable[[Any], T]) -> T: ...


class SFTPUpload(StagedUpload):
    """One upload to ``key``; a small one is redone whole on a new connection if its own dropped."""

    def __init__(self, storage: SFTPHost, key: str, create_only: bool) -> None:
        super().__init__(key, create_only=create_only, where=storage.endpoint())
        self.storage = storage
        self.stream: WriteStream | None = None
        self._conn: Any = None  # the connection of the current step
        self._claimed = False  # an empty file of ours holds the name (create-only)

    def _step(self, fn: Callable[[], T]) -> T:
        def on(conn: Any) -> T:
            self._conn = conn
            return fn()

        return self.storage._connections.run(on)  # once more on a new connection if this one died

    def _exists(self) -> bool:
        return self.storage._run(lambda sftp: exists(sftp, self.key))

    def _open_temp(self) -> None:
        sftp = self._conn.sftp
        try:
            handle = sftp.open(self.temp, "wx")
        except FileNotFoundError:
            self._makedirs(sftp, posixpath.dirname(self.temp))
            handle = sftp.open(self.temp, "wx")
        self.stream = WriteStream(handle, self.storage.write_window)
        self.stream.conn = self._conn  # alive while writing

    def _write(self, data: bytes) -> None:
        self.stream.write(data)  # type: ignore[union-attr]

    def _finish_temp(self, tail: bytes) -> None:
        assert self.stream is not None
        self.stream.write(tail)
        self.stream.flush()
        handle, storage = self.stream.handle, self.storage
        if storage.file_mode is not None:
            handle.chmod(storage.file_mode)
        if storage.uid is not None or storage.gid is not None:
            attrs = handle.stat()
            handle.chown(_pick(storage.uid, attrs.st_uid), _pick(storage.gid, attrs.st_gid))
        handle.close()

    def _place(self) -> None:
        assert self.stream is not None
        sftp = self.stream.handle.sftp
        if self.create_only and self.storage._posix_rename:
            self._claim(sftp)
            try:
                self._replace(sftp)
            except BaseException:
                self._unclaim()
                raise
            if self.storage._posix_rename:
                return
            self._unclaim()  # an old server, found out just now: place with RENAME below
        if self.create_only:
            self._rename_new(sftp)
        elif not self._replace(sftp):
            self._replace_in_two_steps(sftp)

    def _claim(self, sftp: Any) -> None:
        """Create ``key`` empty and exclusively: whoever creates it owns the name. The empty
        file's close is not waited for: it goes with the ``posix-rename`` that replaces it."""
        self._take_name(sftp, lambda: close_unwaited(sftp.open(self.key, "wx")))
        self._claimed = True

    def _unclaim(self) -> None:
        """Remove our claim if the temporary file was not moved onto it (best effort: the
        upload failed already, or the server turned out to have no posix-rename)."""
        if not self._claimed:
            return
        self._claimed = False

        def remove(sftp: Any) -> None:
            if exists(sftp, self.temp) and sftp.stat(self.key).st_size == 0:
                sftp.remove(self.key)

        try:
            self.storage._run(remove)
        except Exception as exc:  # noqa: BLE001 - never mask the error that caused it
            logger.warning("Could not remove the claim of %s at %s: %s", self.key, self.where, exc)

    def _replace(self, sftp: Any) -> bool:
        """``posix-rename`` the temporary file onto ``key``; False if the server has none."""
        if not self.storage._posix_rename:
            return False
        try:
            sftp.posix_rename(self.temp, self.key)
        except OSError as exc:
            if "unsupported" not in str(exc).lower():
                raise
            self.storage._posix_rename = False  # an old server
            return False
        self._claimed = False
        return True

    def _rename_new(self, sftp: Any) -> None:
        """Plain SFTP v3 RENAME, for servers without posix-rename: it refuses an existing
        target, atomically only where the server makes it so (docs/sftp.md)."""
        self._take_name(sftp, lambda: sftp.rename(self.temp, self.key))

    def _take_name(self, sftp: Any, take: Callable[[], None]) -> None:
        """Run ``take``, which creates ``key`` only if it is free; FileExistsError if taken.

        A refusal with nothing at ``key`` afterwards is tried again: on a server just found
        to be old, writers that claimed ``key`` empty take their claims back, so the name
        can be taken for a moment and then free."""
        for attempt in range(_TAKE_ATTEMPTS):
            try:
                take()
                return
            except OSError as exc:
                if exists(sftp, self.key):
                    raise FileExistsError(f"{self.key!r} already exists on {self.where}") from exc
                if attempt + 1 == _TAKE_ATTEMPTS:
                    raise

    def _replace_in_two_steps(self, sftp: Any) -> None:
        """Overwrite on a server without posix-rename: RENAME, or remove then RENAME."""
        try:
            sftp.rename(self.temp, self.key)
        except OSError:
            if not exists(sftp, self.key):
                raise
            sftp.remove(self.key)
            sftp.rename(self.temp, self.key)

    def _release(self, error: BaseException | None) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.handle.close()  # paramiko: a no-op when closed already

    def _remove_temp(self) -> None:
        def remove(sftp: Any) -> None:
            try:
                sftp.remove(self.temp)
            except FileNotFoundError:
                pass

        self.storage._run(remove)

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
        storage = self.storage
        try:
            sftp.mkdir(path, storage.dir_mode if storage.dir_mode is not None else 0o777)
        except (FileNotFoundError, PermissionError):
            raise
        except OSError:
            if not stat.S_ISDIR(sftp.stat(path).st_mode or 0):  # made meanwhile, or a file there
                raise NotADirectoryError(f"{path!r} on {self.where} is not a directory") from None
            return
        if storage.dir_mode is not None:
            sftp.chmod(path, storage.dir_mode)  # the server's umask may have narrowed it
        if storage.uid is not None or storage.gid is not None:
            attrs = sftp.stat(path)
            sftp.chown(path, _pick(storage.uid, attrs.st_uid), _pick(storage.gid, attrs.st_gid))


def _pick(value: int | None, current: int | None) -> int:
    return int(value if value is not None else (current if current is not None else -1))


def exists(sftp: Any, path: str) -> bool:
    """Whether ``path`` exists (a file or a directory)."""
    try:
        sftp.stat(path)
    except FileNotFoundError:
        return False
    return True
