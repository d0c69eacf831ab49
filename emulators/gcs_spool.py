"""Resumable-upload chunks kept by the GCS emulator's front until the last one.

fake-gcs-server (1.x) appends each chunk of a resumable upload to what the session holds
and then computes the CRC32C and MD5 of *everything* the session holds, on every chunk:
a 100 MiB upload in 16 MiB chunks is hashed seven times over, about 440 MiB, where GCS
keeps running values. On this machine that made the emulator spend 2.5x the CPU on our
chunked 100 MiB save as on one sent in a single chunk (``bench/compare.py``, GCS save rows).

:class:`Spools` keeps a session's chunks in a temporary file instead, and sends the service
one request with all of them when the last chunk comes: the service hashes each byte once.
The front answers the chunks it keeps as GCS does:

* ``308`` with ``Range: bytes=0-N`` (what the session holds), so status queries (the
  front's, emulators.gcs_front) and resumed uploads see the same offsets as before;
* a chunk that repeats bytes the session holds adds only the bytes past them (GCS ignores
  bytes it has);
* a chunk that starts past what the session holds adds nothing and gets ``308`` with what
  it holds, from where the client sends again;
* a chunk cut short (a reset, a fault) adds nothing.

Only sessions begun through the front are kept; a cancelled (``DELETE``) or finished session's
file is removed, the oldest beyond :attr:`Spools.LIMIT` sessions are dropped, and every file
goes when the front stops. Memory stays at one piece of a
body at a time: the kept bytes are on disk.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import OrderedDict
from typing import Iterator

from .classify import HTTPRequest
from .http_wire import CHUNK, content_range


class _Spool:
    """One session's kept bytes: ``size`` bytes held, at the start of a temporary file."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile(prefix="storages-gcs-upload-")
        self.size = 0

    def write_at(self, position: int, data: bytes) -> None:
        os.pwrite(self.file.fileno(), data, position)

    def pieces(self, length: int) -> Iterator[bytes]:
        position = 0
        while position < length:
            data = os.pread(self.file.fileno(), min(CHUNK * 16, length - position), position)
            if not data:
                raise OSError("the kept upload bytes ended early")
            position += len(data)
            yield data


#: ``(upload_id, its spool, start, end, total)`` of a chunk (None: ``*`` or nothing kept yet).
_Chunk = tuple[str, "_Spool | None", "int | None", "int | None", "int | None"]


class Keep:
    """One chunk request kept by the front (``HTTPFront.keep``): its bytes past what the session
    holds, taken when the whole body arrived."""

    def __init__(self, spools: "Spools", spool: _Spool, start: int | None) -> None:
        self._spools, self._spool = spools, spool
        self._start = start  # None: the request adds nothing (it starts past what is held)

    def write(self, offset: int, data: bytes) -> None:
        """``data``, the body's bytes from ``offset`` on."""
        if self._start is None:
            return
        position = self._start + offset
        skip = self._spool.size - position  # bytes the session holds already
        if skip >= len(data):
            return
        if skip > 0:
            data, position = data[skip:], position + skip
        self._spool.write_at(position, data)

    def commit(self, length: int) -> tuple[int, list[tuple[str, str]]]:
        """The whole body (``length`` bytes) arrived: the answer, ``308`` with what is held."""
        with self._spools.lock:
            if self._start is not None and self._start <= self._spool.size:
                self._spool.size = max(self._spool.size, self._start + length)
            held = self._spool.size
        return 308, [("Range", f"bytes=0-{held - 1}")] if held else []


class Release:
    """The last chunk of a kept session (``HTTPFront.release``): the kept bytes go to the
    service ahead of its own body, as one request for the whole object."""

    def __init__(self, spool: _Spool, start: int, end: int, total: int) -> None:
        self._spool, self._start, self._end, self._total = spool, start, end, total

    def fields(self, fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The request's header fields, its range and length now covering the kept bytes too."""
        out: list[tuple[str, str]] = []
        for name, value in fields:
            lower = name.lower()
            if lower == "content-range":
                value = f"bytes 0-{self._end}/{self._total}"
            elif lower == "content-length":
                value = str(self._start + int(value))
            out.append((name, value))
        return out

    def pieces(self) -> Iterator[bytes]:
        """The kept bytes before the request's own (``start`` of them)."""
        return self._spool.pieces(self._start)


class Spools:
    """The kept chunks of every resumable session begun through the front."""

    #: Sessions remembered at most; the oldest beyond it (abandoned, in practice) are dropped.
    LIMIT = 1000

    def __init__(self) -> None:
        self.lock = threading.Lock()
        # upload_id -> its kept bytes (None: nothing kept yet)
        self._spools: OrderedDict[str, _Spool | None] = OrderedDict()

    def begin(self, upload_id: str) -> None:
        """A session began through the front: its chunks are kept."""
        dropped = []
        with self.lock:
            self._spools.setdefault(upload_id, None)
            while len(self._spools) > self.LIMIT:
                dropped.append(self._spools.popitem(last=False)[1])
        _close(dropped)

    def _chunk(self, request: HTTPRequest) -> _Chunk | None:
        """``(upload_id, its spool, start, end, total)`` for a chunk of a kept session, else None."""
        upload_id = request.query.get("upload_id")
        if request.method != "PUT" or upload_id is None:
            return None
        parsed = content_range(request.header("Content-Range"))
        if parsed is None or parsed == (None, None, None):  # no range, or a status query
            return None
        with self.lock:
            if upload_id not in self._spools:
                return None
            return (upload_id, self._spools[upload_id], *parsed)

    def keep(self, request: HTTPRequest) -> Keep | None:
        """A :class:`Keep` for a chunk that does not end the upload, or starts past what its
        session holds; None for any other request."""
        found = self._chunk(request)
        if found is None:
            return None
        upload_id, spool, start, end, total = found
        held = spool.size if spool is not None else 0
        last = total is not None and (end is None or end + 1 >= total)
        if last and (start if start is not None else total) <= held:
            return None  # the last chunk: released (or passed on when nothing is kept)
        if spool is None:
            with self.lock:
                spool = self._spools.setdefault(upload_id, None) or _Spool()
                self._spools[upload_id] = spool
        return Keep(self, spool, start if start is not None and start <= held else None)

    def release(self, request: HTTPRequest) -> Release | None:
        """A :class:`Release` for the last chunk of a session with kept bytes; else None."""
        found = self._chunk(request)
        if found is None:
            return None
        _, spool, start, end, total = found
        if spool is None or spool.size == 0 or total is None:
            return None
        if start is None:  # "bytes */total": the kept bytes are the whole object
            return Release(spool, total, total - 1, total)
        return Release(spool, start, end if end is not None else total - 1, total)

    def forget(self, upload_id: str) -> None:
        """The session finished or was cancelled: its kept bytes go."""
        with self.lock:
            spool = self._spools.pop(upload_id, None)
        _close([spool])

    def close(self) -> None:
        """Every session's kept bytes go (the front stops)."""
        with self.lock:
            spools, self._spools = list(self._spools.values()), OrderedDict()
        _close(spools)


def _close(spools: list[_Spool | None]) -> None:
    for spool in spools:
        if spool is not None:
            spool.file.close()
