"""Checks S3 and GCS make of what an upload carries, made by the proxy in front of emulators
that skip them.

moto stores an object whatever its ``Content-MD5`` or ``x-amz-checksum-*`` header says;
fake-gcs-server ignores the ``md5Hash``/``crc32c`` of an upload's metadata, the
``X-Goog-Hash`` of a resumable upload's last request, and ``ifGenerationMatch`` on
resumable uploads. The real services refuse such uploads. The fronts (emulators.proxy)
make these checks as the body streams through and hold back its last piece until the
verdict, so a refused upload never completes at the service:

* :class:`S3Integrity`: ``Content-MD5`` and ``x-amz-checksum-{crc32,crc32c,sha1,sha256}``
  of PUT requests (objects and parts), refused with S3's ``400 BadDigest``. Bodies in
  ``aws-chunked`` encoding (trailing checksums) are not checked.
* :class:`GCSIntegrity`: the metadata hashes of ``uploadType=multipart`` uploads; for a
  resumable session, the CRC32C and MD5 of its bytes in order, checked against the last
  request's ``X-Goog-Hash`` (``400 invalid``, as GCS answers); and the session's
  ``ifGenerationMatch``, checked when the last request arrives (``412 conditionNotMet``),
  one finishing upload per object at a time.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl, unquote, urlsplit

from storages.core.checksums import hasher

from .classify import HTTPRequest
from .http_wire import content_range
from .proxy import BodyCheck, Denial


def _b64(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def _show(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


class _Digests:
    """Running digests of the bytes a check has seen."""

    def __init__(self, algorithms: list[str]) -> None:
        self.hashers = {name: hasher(name) for name in algorithms}

    def update(self, data: bytes) -> None:
        for running in self.hashers.values():
            running.update(data)

    def mismatch(self, expected: dict[str, bytes]) -> tuple[str, bytes, bytes] | None:
        """(algorithm, expected, computed) of the first digest that differs."""
        for name, want in expected.items():
            got = self.hashers[name].digest()
            if got != want:
                return name, want, got
        return None


# -- S3 ------------------------------------------------------------------------------------------

class _S3Check:
    def __init__(self, expected: dict[str, bytes]) -> None:
        self.expected = expected
        self.digests = _Digests(list(expected))

    def update(self, data: bytes) -> None:
        self.digests.update(data)

    def verdict(self) -> Denial | None:
        wrong = self.digests.mismatch(self.expected)
        if wrong is None:
            return None
        name, want, got = wrong
        what = "Content-MD5" if name == "md5" else name.upper()
        return Denial(400, "BadDigest", f"The {what} you specified did not match the calculated checksum.",
                      f"expected {_show(want)}, calculated {_show(got)}")


class S3Integrity:
    """S3's checks of ``Content-MD5`` and ``x-amz-checksum-*`` on uploads."""

    ALGORITHMS = ("crc32", "crc32c", "sha1", "sha256")

    def check(self, request: HTTPRequest) -> BodyCheck | None:
        if request.method != "PUT" or request.header("x-amz-copy-source"):
            return None
        if "aws-chunked" in request.header("Content-Encoding").lower():
            return None
        expected: dict[str, bytes] = {}
        md5 = _b64(request.header("Content-MD5")) if request.header("Content-MD5") else None
        if md5:
            expected["md5"] = md5
        for name in self.ALGORITHMS:
            value = request.header(f"x-amz-checksum-{name}")
            digest = _b64(value) if value else None
            if digest:
                expected[name] = digest
        return _S3Check(expected) if expected else None

    def answered(self, request: HTTPRequest, status: int | None, headers: Any) -> None:
        pass


# -- GCS -----------------------------------------------------------------------------------------

@dataclass
class _Session:
    """A resumable upload session, as the front saw it created and fed."""

    bucket: str
    name: str
    if_generation_match: int | None
    hashed: int = 0  # bytes of the object the digests have seen, in order
    broken: bool = False  # a chunk skipped bytes the digests never saw: no hash check
    digests: _Digests = field(default_factory=lambda: _Digests(["crc32c", "md5"]))


def _goog_hash(value: str) -> dict[str, bytes]:
    """``X-Goog-Hash: crc32c=...,md5=...`` as {algorithm: digest}."""
    found: dict[str, bytes] = {}
    for item in value.split(","):
        name, _, encoded = item.strip().partition("=")
        digest = _b64(encoded) if name in ("crc32c", "md5") and encoded else None
        if digest:
            found[name] = digest
    return found


def _hash_mismatch(wrong: tuple[str, bytes, bytes]) -> Denial:
    name, want, got = wrong
    label = "CRC32C" if name == "crc32c" else "MD5"
    return Denial(400, "invalid", f'Provided {label} "{_show(want)}" doesn\'t match calculated {label} '
                                  f'"{_show(got)}".')


class _MultipartCheck:
    """The media part of a ``multipart/related`` upload against its metadata's hashes."""

    def __init__(self, boundary: bytes) -> None:
        self.boundary = boundary
        self.head = b""  # the bytes before the media part, until it starts
        self.expected: dict[str, bytes] | None = None
        self.digests = _Digests(["crc32c", "md5"])
        self.lag = b""  # the last bytes, which may be the closing delimiter
        self.keep = len(b"\r\n--" + boundary + b"--\r\n")

    def update(self, data: bytes) -> None:
        if self.expected is None:
            self.head += data
            data = self._media_start()
            if self.expected is None:
                return
        self.lag += data
        if len(self.lag) > self.keep:
            self.digests.update(self.lag[:-self.keep])
            self.lag = self.lag[-self.keep:]

    def _media_start(self) -> bytes:
        """Parse the metadata part once the media part's headers are in; the media bytes so far."""
        delimiter = b"--" + self.boundary
        parts = self.head.split(delimiter)
        if len(parts) < 3 or b"\r\n\r\n" not in parts[2]:
            return b""
        try:
            metadata = json.loads(parts[1].split(b"\r\n\r\n", 1)[1].strip())
        except (ValueError, IndexError):
            metadata = {}
        self.expected = {}
        for key, name in (("crc32c", "crc32c"), ("md5Hash", "md5")):
            digest = _b64(str(metadata.get(key, ""))) if isinstance(metadata, dict) else None
            if digest:
                self.expected[name] = digest
        media_offset = len(parts[0]) + len(parts[1]) + 2 * len(delimiter) + parts[2].index(b"\r\n\r\n") + 4
        media, self.head = self.head[media_offset:], b""
        return media

    def verdict(self) -> Denial | None:
        if not self.expected:
            return None
        media = self.lag
        end = media.rfind(b"\r\n--" + self.boundary + b"--")
        self.digests.update(media[:end] if end >= 0 else media)
        wrong = self.digests.mismatch(self.expected)
        return _hash_mismatch(wrong) if wrong else None


class _ChunkCheck:
    """One request of a resumable session: its bytes extend the session's digests; the last
    request's verdict checks ``X-Goog-Hash`` and the session's ``ifGenerationMatch``."""

    def __init__(self, owner: GCSIntegrity, request: HTTPRequest, session: _Session, start: int,
                 total: int | None) -> None:
        self.owner, self.request, self.session = owner, request, session
        self.offset, self.total = start, total

    def update(self, data: bytes) -> None:
        session = self.session
        if self.offset > session.hashed:
            session.broken = True
        skip = session.hashed - self.offset
        if 0 <= skip < len(data) and not session.broken:
            session.digests.update(data[skip:])
            session.hashed += len(data) - skip
        self.offset += len(data)

    def verdict(self) -> Denial | None:
        if self.total is None:
            return None
        session = self.session
        expected = _goog_hash(self.request.header("X-Goog-Hash"))
        if expected and not session.broken and session.hashed == self.total:
            wrong = session.digests.mismatch(expected)
            if wrong is not None:
                return _hash_mismatch(wrong)
        if session.if_generation_match is not None:
            self.owner.finishing(self.request, session)  # released when the answer goes out
            if self.owner.generation(session.bucket, session.name) != session.if_generation_match:
                return Denial(412, "conditionNotMet", "At least one of the pre-conditions you specified did "
                                                      "not hold.")
        return None


class GCSIntegrity:
    """GCS's checks of upload hashes and of resumable uploads' ``ifGenerationMatch``.

    ``generation(bucket, name)`` asks the service for an object's generation (0: none)."""

    def __init__(self, generation: Callable[[str, str], int]) -> None:
        self.generation = generation
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._creating: dict[int, _Session] = {}
        self._objects: dict[tuple[str, str], threading.Lock] = {}
        self._held: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()

    def check(self, request: HTTPRequest) -> BodyCheck | None:
        path = request.raw_path
        if not path.startswith("/upload/storage/v1/b/"):
            return None
        query = request.query
        upload_id = query.get("upload_id")
        if upload_id:
            return self._chunk(request, upload_id)
        bucket = unquote(path[len("/upload/storage/v1/b/"):].split("/", 1)[0])
        kind = query.get("uploadType")
        if kind == "resumable" and request.method == "POST":
            body = request.json_body()
            name = (body.get("name") if isinstance(body, dict) else None) or query.get("name", "")
            match = query.get("ifGenerationMatch")
            with self._lock:
                self._creating[id(request)] = _Session(bucket, name, int(match) if match else None)
            return None
        if kind == "multipart":
            boundary = re.search(r'boundary="?([^";]+)"?', request.header("Content-Type"))
            return _MultipartCheck(boundary.group(1).encode()) if boundary else None
        return None

    def _chunk(self, request: HTTPRequest, upload_id: str) -> BodyCheck | None:
        with self._lock:
            session = self._sessions.get(upload_id)
        parsed = content_range(request.header("Content-Range"))
        if session is None or request.method != "PUT" or parsed is None:
            return None
        start, _, total = parsed
        return _ChunkCheck(self, request, session, session.hashed if start is None else start, total)

    def finishing(self, request: HTTPRequest, session: _Session) -> None:
        """Hold the object's lock from the precondition check until the service answered."""
        with self._lock:
            lock = self._objects.setdefault((session.bucket, session.name), threading.Lock())
        lock.acquire()
        with self._lock:
            self._held[id(request)] = lock

    def answered(self, request: HTTPRequest, status: int | None, headers: Any) -> None:
        with self._lock:
            held = self._held.pop(id(request), None)
            created = self._creating.pop(id(request), None)
        if held is not None:
            held.release()
        if created is None or status is None or status >= 300:
            return
        location = (headers.get("Location") if headers is not None else None) or ""
        upload_id = dict(parse_qsl(urlsplit(location).query)).get("upload_id")
        if upload_id:
            with self._lock:
                self._sessions[upload_id] = created
                while len(self._sessions) > 1000:
                    self._sessions.popitem(last=False)
