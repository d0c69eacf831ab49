"""Files opened ``a``, ``r+``, ``w+`` or ``a+`` (upstream's Azure modes): read, change, write back.

No object store can change a stored object in place, so such a file is a local
spool — in memory up to the storage's ``chunk_size``, then a temporary file on
disk (``FILE_UPLOAD_TEMP_DIR``) — loaded from the stored object when the mode
reads or appends, and written back whole, through the storage's ordinary
upload, when it is closed after a change. Writes in an ``a`` mode always go to
the end, as with ``open(path, "a")``; ``a`` and ``a+`` create a missing file.

Nothing is lost silently: the write-back of a file that existed is conditional
on it being unchanged since it was read, where the backend offers
``_begin_replace(key, etag)`` (Azure: ``If-Match``); that of a file that did not
exist is create-only. Either way a concurrent change makes ``close()`` raise
``FileExistsError`` and nothing is written.
"""

from __future__ import annotations

import io
import tempfile
from typing import Any

from .errors import translated
from .files import RemoteFile, _Writer

#: Characters of a valid update mode besides the one of r/w/a.
_FLAGS = set("bt+")


def is_update_mode(mode: str) -> bool:
    """Whether ``mode`` appends or updates (``a``, ``+``): :class:`UpdateStream` serves it."""
    return "a" in mode or "+" in mode


def check_update_mode(mode: str) -> None:
    """Refuse a malformed mode the way ``open()`` does (one of r/w/a, optional b or t, optional +)."""
    kinds = [c for c in mode if c in "rwa"]
    rest = [c for c in mode if c not in "rwa"]
    if len(kinds) != 1 or not set(rest) <= _FLAGS or len(set(rest)) != len(rest) or {"b", "t"} <= set(rest):
        raise ValueError(f"invalid mode: {mode!r}")


class UpdateStream(io.BufferedIOBase):
    """A binary stream over a local spool of one stored object (see the module docstring)."""

    def __init__(self, storage: Any, name: str, mode: str) -> None:
        check_update_mode(mode)
        from django.conf import settings

        self._storage = storage
        self._name = name
        self._mode = mode
        self._append = "a" in mode
        self._readable = "r" in mode or "+" in mode
        self._existed = False
        self._etag: str | None = None
        self._dirty = "w" in mode  # w+ truncates: the object is replaced even if nothing is written
        self._spool: Any = tempfile.SpooledTemporaryFile(
            max_size=storage.chunk_size, dir=getattr(settings, "FILE_UPLOAD_TEMP_DIR", None))
        try:
            if "w" not in mode:
                self._load(must_exist="r" in mode)
            if self._append:
                self._spool.seek(0, io.SEEK_END)
        except BaseException:
            self._spool.close()
            raise

    def _load(self, *, must_exist: bool) -> None:
        try:
            source = RemoteFile(self._storage, self._name, "rb")
        except FileNotFoundError:
            if must_exist:
                raise
            self._dirty = True  # 'a' creates the file, as open(path, "a") does
            return
        with source:
            self._existed = True
            self._etag = source.info.etag if source.info else None
            for chunk in source.chunks(self._storage.chunk_size):
                self._spool.write(chunk)
        self._spool.seek(0)

    # -- io ---------------------------------------------------------------------
    def readable(self) -> bool:
        return self._readable

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def _check_readable(self) -> None:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if not self._readable:
            raise io.UnsupportedOperation(f"not readable (opened in mode {self._mode!r})")

    def read(self, size: int | None = -1) -> bytes:
        self._check_readable()
        return self._spool.read(-1 if size is None else size)

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if isinstance(data, str):
            raise TypeError("a bytes-like object is required, not 'str'")
        if self._append:
            self._spool.seek(0, io.SEEK_END)
        self._dirty = True
        return self._spool.write(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._spool.seek(offset, whence)

    def tell(self) -> int:
        return self._spool.tell()

    def truncate(self, size: int | None = None) -> int:
        self._dirty = True
        return self._spool.truncate(size)

    @property
    def size(self) -> int:
        """The current length of the file, changes included."""
        position = self._spool.tell()
        end = self._spool.seek(0, io.SEEK_END)
        self._spool.seek(position)
        return end

    # -- ending -------------------------------------------------------------------
    def abort(self) -> None:
        """Discard the changes; the stored object stays as it was."""
        if not self.closed:
            self._dirty = False
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        try:
            if self._dirty:
                self._write_back()
        finally:
            self._spool.close()
            super().close()

    def _write_back(self) -> None:
        storage, name = self._storage, self._name
        key = storage._key(name)
        replace = getattr(storage, "_begin_replace", None)
        try:
            if self._existed and self._etag and replace is not None:
                with translated(storage, name):
                    upload = replace(key, self._etag)
            else:
                create_only = not self._existed and "w" not in self._mode
                upload = storage._start_upload(name, key, create_only=create_only, content_type=None)
            writer = _Writer(storage, name, upload)
            self._spool.seek(0)
            try:
                for chunk in iter(lambda: self._spool.read(storage.part_size), b""):
                    writer.write(chunk)
            except BaseException:
                writer.abort()
                raise
            writer.close()
        except FileExistsError as exc:
            raise FileExistsError(
                f"{name!r} changed at {storage.endpoint()} after it was opened in mode {self._mode!r}; "
                "nothing was written: open it again and redo the change") from exc
