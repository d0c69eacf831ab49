"""The one remote file object shared by every backend.

A backend provides only hooks (see :class:`storages.core.base.BaseStorage`):
``_open_stream(key, start)`` returns a readable byte stream (a :class:`FromStart`
one where the service could not start at the offset: the reader skips to it) and
the object's :class:`ObjectInfo`; ``_begin_upload(key, ...)`` returns an
:class:`Upload` whose ``write_part``/``commit``/``abort`` move the bytes. Reads
are lazy and streaming, writes upload in parts on the fly: memory is bounded by
the part size, never by the file size. A write that fails or is abandoned inside ``with`` on an
exception is aborted, so no partial object ever appears under the name.
"""

from __future__ import annotations

import io
import time
import zlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Protocol

from django.core.files.base import File

from . import resume
from .checksums import Verifier
from .errors import ObjectChanged, ServiceUnavailable, translated

READ_MODES = {"r", "rb", "rt"}
WRITE_MODES = {"w", "wb", "wt"}


@dataclass
class ObjectInfo:
    """What a service tells about a stored object. Times are aware (UTC)."""

    size: int | None = None
    modified: datetime | None = None
    created: datetime | None = None
    accessed: datetime | None = None
    content_type: str | None = None
    content_encoding: str | None = None
    etag: str | None = None
    #: What changes whenever the object is replaced (GCS generation, S3 version id).
    version: str | None = None
    #: Digests of the stored bytes the service reported: algorithm -> raw digest
    #: (``storages.core.checksums``); a read of the whole object is checked against one.
    checksums: dict[str, bytes] = field(default_factory=dict)
    #: Gzip-compressed by the storage on upload (its metadata mark): reads decode it.
    compressed: bool = False


class Upload(ABC):
    """One upload in progress. The shared writer calls, in order: any number of
    ``write_part`` (each at least the storage's ``part_size``), then exactly one
    of ``commit`` (with the final bytes, possibly empty) or ``abort``."""

    @abstractmethod
    def write_part(self, data: bytes) -> None:
        """Send one non-final part."""

    @abstractmethod
    def commit(self, tail: bytes) -> None:
        """Send the final bytes and make the object visible under its name.

        Raises ``FileExistsError`` when the upload is create-only and the name
        is taken; in that case nothing was replaced."""

    @abstractmethod
    def abort(self) -> None:
        """Discard everything sent so far. Must be safe to call after a failure."""


class FromStart:
    """What ``_open_stream(key, start)`` returns when the service could not start at
    ``start`` (no ranges, or a range it ignored): a stream from byte 0, which the
    shared reader skips forward. The one place where bytes are skipped."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream


class FileHost(Protocol):
    """What the file objects need of their storage (``BaseStorage`` provides it)."""

    part_size: int
    chunk_size: int
    read_resumes: int
    checksums: bool

    def _key(self, name: str) -> str: ...

    def endpoint(self) -> str: ...

    def _stat(self, key: str) -> ObjectInfo: ...

    def _open_stream(self, key: str, start: int) -> tuple[Any, ObjectInfo]: ...

    def _start_upload(self, name: str, key: str, *, create_only: bool,
                      content_type: str | None) -> Upload: ...

    def translate_error(self, exc: BaseException, name: str) -> BaseException | None: ...

    def unexpected_error(self, exc: BaseException, name: str) -> BaseException: ...

    def size(self, name: str) -> int: ...


def decodes(storage: Any, info: ObjectInfo | None) -> bool:
    """Whether reads of an object with ``info`` from ``storage`` gunzip its bytes."""
    if info is None or info.content_encoding != "gzip":
        return False
    return info.compressed or bool(getattr(storage, "decode_gzip", False))


#: The read buffer over streams that receive into buffers themselves (see ``_Reader.buffer_size``).
DIRECT_READ_BUFFER = 64 * 1024


class _Reader(io.RawIOBase):
    """A seekable raw reader over a backend stream; reopens at an offset on seek.

    A transfer that breaks off is resumed from the byte already delivered, and a read of
    the whole object is checked against the digest the service reported (see
    ``storages.core.resume`` and ``storages.core.checksums``)."""

    def __init__(self, storage: FileHost, name: str, key: str) -> None:
        self._storage = storage
        self._name = name
        self._key = key
        self._pos = 0
        self._stream: Any = None
        self._stream_pos = 0
        self._raw_pos = 0  # offset in the stored (undecoded) object of the stream's next byte
        self._decoder: Any = None
        self._verifier: Verifier | None = None
        self._resumes = 0  # resumptions since the stream was last opened (a seek starts over)
        self.info: ObjectInfo | None = None
        self._open_at(0)  # one request; raises FileNotFoundError for a missing object

    def buffer_size(self, chunk_size: int) -> int:
        """The buffer for a ``BufferedReader`` over this reader: ``chunk_size``, or less where
        the stream receives into buffers itself. A read larger than the buffer goes into the
        caller's bytes object directly, so a 1 MiB read of an FTP socket then copies no byte
        (with a 1 MiB buffer, all but the first receive would be copied through it)."""
        if self._decoder is None and hasattr(self._stream, "readinto"):
            return min(chunk_size, DIRECT_READ_BUFFER)
        return chunk_size

    # -- stream management -------------------------------------------------
    def _gzipped(self) -> bool:
        """Whether the bytes are decoded: gzip-encoded, and compressed by the storage itself
        or its ``decode_gzip`` option asks for every gzip-encoded object."""
        return decodes(self._storage, self.info)

    def _open_at(self, pos: int) -> None:
        self._close_stream()
        start = 0 if self._gzipped() else pos  # gzip decodes from the first byte
        self._verifier = None
        self._resumes = 0
        if self.info is not None and self.info.size is not None and start and start >= self.info.size:
            self._stream, self._stream_pos = io.BytesIO(), pos
            return
        with translated(self._storage, self._name):
            self._stream, info = self._storage._open_stream(self._key, start)
        if isinstance(self._stream, FromStart):
            self._stream, start = self._stream.stream, 0
        if self.info is None or info.size is not None:
            self.info = info
        self._stream_pos = self._raw_pos = start
        if start == 0 and self._storage.checksums:  # the whole object passes by: check its digest
            self._verifier = Verifier.pick(info.checksums)
        self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS) if self._gzipped() else None
        self._pending = b""
        if self._stream_pos < pos:
            self._discard(pos - self._stream_pos)

    def _discard(self, count: int) -> None:
        """Read and drop ``count`` bytes: reaching an offset the stream cannot start at."""
        while count > 0:
            data = self._read_stream(min(count, 1 << 20))
            if not data:
                break
            count -= len(data)

    def _raw(self, read: Callable[[Any], Any]) -> Any:
        """``read(stream)`` (bytes, or a count for ``readinto``), resuming a transfer that
        breaks off (the caller feeds what it returns to ``_verify``)."""
        while True:
            if self._stream is None:  # every resumption failed last time: start this read anew
                self._open_at(self._pos)
            try:
                with translated(self._storage, self._name):
                    result = read(self._stream)
                data = result if isinstance(result, (bytes, bytearray, memoryview)) else None
                count = len(data) if data is not None else int(result or 0)
                size = self.info.size if self.info is not None else None
                if not count and size is not None and self._raw_pos < size:
                    raise resume.cut_short(self._storage.endpoint(), self._name, self._raw_pos, size)
            except ServiceUnavailable as exc:
                self._resume(exc)
                continue
            self._raw_pos += count
            return result

    def _resume(self, error: ServiceUnavailable) -> None:
        """Re-request the object from ``_raw_pos`` on a new stream, or raise ``error``."""
        while True:
            self._resumes += 1
            if self._resumes > self._storage.read_resumes:
                raise error
            time.sleep(resume.delay(self._resumes))
            before = self.info
            self._close_stream(quietly=True)
            try:
                with translated(self._storage, self._name):
                    stream, info = self._storage._open_stream(self._key, self._raw_pos)
                    if not resume.has_identity(info):  # e.g. FTP's REST: ask what is there now
                        info = self._storage._stat(self._key)
            except ServiceUnavailable as exc:
                error = exc
                continue
            if before is not None and not resume.same_object(before, info):
                close = getattr(stream, "close", None)
                if close is not None:
                    close()
                raise ObjectChanged(f"{self._storage.endpoint()}: {self._name!r} was replaced while it was "
                                    f"being read (at byte {self._raw_pos})") from error
            if isinstance(stream, FromStart):  # no ranges: read up to where the last stream stopped
                stream = stream.stream
                self._stream = stream
                try:
                    self._skip_raw(self._raw_pos)
                except ServiceUnavailable as exc:
                    error = exc
                    continue
            self._stream = stream
            return

    def _skip_raw(self, count: int) -> None:
        while count > 0:
            with translated(self._storage, self._name):
                data = self._stream.read(min(count, 1 << 20))
            if not data:
                raise resume.cut_short(self._storage.endpoint(), self._name, self._raw_pos - count,
                                       self._raw_pos)
            count -= len(data)

    def _verify(self, data: Any) -> None:
        """Feed the verifier; once the last byte of the object arrived, check the digest."""
        verifier = self._verifier
        if verifier is None:
            return
        verifier.update(data)
        size = self.info.size if self.info is not None else None
        if (size is not None and self._raw_pos >= size) or (size is None and not data):
            self._verifier = None
            verifier.check(f"{self._storage.endpoint()}: {self._name!r}")

    def _read_stream(self, n: int) -> bytes:
        if self._decoder is None:
            data = self._raw(lambda stream: stream.read(n))
            self._verify(data)
            self._stream_pos += len(data)
            return data
        while len(self._pending) < n and self._decoder is not None:
            raw = self._raw(lambda stream: stream.read(max(n, 65536)))
            self._verify(raw)
            if not raw:
                self._pending += self._decoder.flush()
                self._decoder = None
                break
            self._pending += self._decoder.decompress(raw)
        data, self._pending = self._pending[:n], self._pending[n:]
        self._stream_pos += len(data)
        return data

    def _close_stream(self, *, quietly: bool = False) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.close()
        except Exception:
            if not quietly:
                raise

    def read_bytes(self, n: int) -> bytes | None:
        """Up to ``n`` bytes (fewer only at the end) as the stream's own bytes objects, not copied
        into a buffer; None where the stream reads into buffers itself or the bytes are decoded."""
        if self._stream is None or self._stream_pos != self._pos:
            self._open_at(self._pos)
        if self._decoder is not None or hasattr(self._stream, "readinto"):
            return None
        parts = []
        while n > 0:
            data = self._read_stream(n)
            if not data:
                break
            parts.append(data)
            self._pos += len(data)
            n -= len(data)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    # -- io.RawIOBase --------------------------------------------------------
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._stream is None or self._stream_pos != self._pos:
            self._open_at(self._pos)
        if self._decoder is None and hasattr(self._stream, "readinto"):
            # Straight into the caller's buffer: no intermediate bytes object.
            count = self._raw(lambda stream: stream.readinto(buffer))
            self._verify(memoryview(buffer)[:count])
            self._stream_pos += count
            self._pos += count
            return count
        data = self._read_stream(len(buffer))
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self._pos + offset
        elif whence == io.SEEK_END:
            if self._gzipped() or self.info is None or self.info.size is None:
                raise io.UnsupportedOperation("seeking from the end needs the decoded size")
            target = self.info.size + offset
        else:
            raise ValueError(f"invalid whence: {whence}")
        if target < 0:
            raise ValueError(f"negative seek position {target}")
        if target != self._pos:
            # Move lazily: the next read reopens the stream at the new position.
            self._pos = target
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._close_stream()
        super().close()


class _Writer(io.BufferedIOBase):
    """Buffers writes into parts of ``part_size`` and hands them to an Upload."""

    def __init__(self, storage: FileHost, name: str, upload: Upload, part_size: int | None = None) -> None:
        self._storage = storage
        self._name = name
        self._upload = upload
        self._part_size = part_size or storage.part_size
        self._buffer = bytearray()
        self._failed = False
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        if self.closed:
            raise ValueError("I/O operation on closed file.")
        if isinstance(data, str):
            raise TypeError("a bytes-like object is required, not 'str'")
        view = memoryview(data).cast("B")
        size = len(view)
        self._written += size
        part_size = self._part_size
        if not self._buffer and size == part_size:
            # A whole part in one write (the common case in save()): no copy.
            self._call(self._upload.write_part, data if isinstance(data, bytes) else view.tobytes())
            return size
        self._buffer += view
        while len(self._buffer) >= part_size:
            with memoryview(self._buffer) as buffered:
                part = buffered[:part_size].tobytes()
            del self._buffer[:part_size]
            self._call(self._upload.write_part, part)
        return size

    def tell(self) -> int:
        return self._written

    def _call(self, func: Any, *args: Any) -> None:
        try:
            with translated(self._storage, self._name):
                func(*args)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Discard the upload: nothing appears under the name."""
        if self.closed:
            return
        self._failed = True
        self._buffer = bytearray()
        try:
            with translated(self._storage, self._name):
                self._upload.abort()
        finally:
            super().close()

    def close(self) -> None:
        if self.closed:
            return
        if self._failed:
            super().close()
            return
        tail, self._buffer = bytes(self._buffer), bytearray()
        self._call(self._upload.commit, tail)
        super().close()


class RemoteFile(File):
    """A file in a storage service, opened ``rb``/``r`` or ``wb``/``w``.

    Behaves like a local file opened with the same mode: text modes go through
    ``io.TextIOWrapper`` (UTF-8); reads stream and seek; every write is kept in
    order and uploaded in parts; closing an empty write creates an empty object.
    """

    #: Bytes per upload part of a write (None: the storage's ``part_size``).
    part_size: int | None = None

    def __init__(self, storage: FileHost, name: str, mode: str = "rb", *, create_only: bool = False,
                 content_type: str | None = None) -> None:
        self._check_mode(storage, mode)
        self._storage = storage
        self.name = name
        self.mode = mode
        self._key = storage._key(name)
        self._create_only = create_only
        self._content_type = content_type
        self._raw: _Reader | _Writer | None = None
        self._buffered: io.BufferedReader | None = None
        self.file = self._open_file()

    def _open_file(self) -> Any:
        storage = self._storage
        self._buffered = None
        if self.mode in READ_MODES:
            self._raw = _Reader(storage, self.name, self._key)
            stream: Any = io.BufferedReader(self._raw, buffer_size=self._raw.buffer_size(storage.chunk_size))
            self._buffered = stream if "b" in self.mode else None
        else:
            upload = storage._start_upload(self.name, self._key, create_only=self._create_only,
                                           content_type=self._content_type)
            self._raw = stream = _Writer(storage, self.name, upload, self.part_size)
        if "b" not in self.mode:
            stream = io.TextIOWrapper(stream, encoding="utf-8", write_through=True)
        return stream

    def _check_mode(self, storage: FileHost, mode: str) -> None:
        """Refuse a mode this file cannot open (subclasses may accept more)."""
        if mode not in READ_MODES | WRITE_MODES:
            raise ValueError(f"unsupported mode {mode!r}: use 'rb', 'r', 'wb' or 'w'")

    def read(self, size: int | None = -1) -> Any:
        """Like the underlying file's ``read``; a binary read of at least ``chunk_size`` with nothing
        buffered takes the backend's bytes as they are (a copy less per byte on streams that
        only offer ``read``, such as HTTP response bodies)."""
        buffered, raw = self._buffered, self._raw
        if (buffered is not None and size is not None and size >= self._storage.chunk_size
                and isinstance(raw, _Reader) and self.file is buffered and not buffered.closed
                and buffered.tell() == raw.tell()):
            data = raw.read_bytes(size)
            if data is not None:
                buffered.seek(raw.tell())  # the buffer (empty) learns where the reader is
                return data
        return self.file.read(size)

    @property
    def info(self) -> ObjectInfo | None:
        """Metadata from the open request (read mode), without another request."""
        return self._raw.info if isinstance(self._raw, _Reader) else None

    @property
    def size(self) -> int:
        if isinstance(self._raw, _Writer):
            return self._raw.tell()
        info = self.info
        if info is not None and info.size is not None and not decodes(self._storage, info):
            return info.size
        return self._storage.size(self.name)

    def open(self, mode: str | None = None) -> RemoteFile:
        """Rewind an open file, or reopen a closed one (like Django's ``File.open``)."""
        if not self.closed and (mode is None or mode == self.mode):
            self.seek(0)
            return self
        if not self.closed:
            self.close()
        if mode is not None:
            self._check_mode(self._storage, mode)
            self.mode = mode
        self.file = self._open_file()
        return self

    def abort(self) -> None:
        """Discard a write in progress; nothing appears under the name."""
        if isinstance(self._raw, _Writer):
            self._raw.abort()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and isinstance(self._raw, _Writer):
            self.abort()
        else:
            self.close()

    def __repr__(self) -> str:
        return f"<RemoteFile: {self.name} ({self.mode})>"
