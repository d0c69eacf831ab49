"""Resumable-upload status queries in front of fake-gcs-server, answered as GCS answers them.

A client that lost the answer to a chunk asks the session what it holds with an empty
``PUT`` carrying ``Content-Range: bytes */*``. GCS answers ``308`` with
``Range: bytes=0-N`` (no ``Range`` when it holds nothing), or ``200`` when the session
already made its object. fake-gcs-server (1.x) takes that query for the last chunk and
finalises the object with what it has, so a client that asks, as Google's guidance says,
gets a truncated object. :class:`GCSFront` (the GCS emulator's proxy) remembers what each
session holds from the service's own answers (each chunk's 308 ``Range``, the final 200)
and answers the query itself; a session it never saw is passed to the service.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from .classify import HTTPRequest
from .http_wire import Body
from .proxy import Denial, HTTPFront

#: The Denial code of a status query's answer (not an error: a 308 or 200 the front gives).
_STATUS = "resumable-status"


class GCSFront(HTTPFront):
    """The GCS front, answering resumable status queries (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = threading.Lock()
        self._held: dict[str, int] = {}  # upload_id -> bytes the session holds
        self._done: dict[str, tuple[str, str]] = {}  # upload_id -> (bucket, key) of its object

    def verify(self, request: HTTPRequest, body: Body) -> Denial | None:
        denial = super().verify(request, body)
        if denial is not None or request.method != "PUT" or request.header("Content-Range") != "bytes */*":
            return denial
        upload_id = request.query.get("upload_id")
        with self._lock:
            if upload_id in self._done:
                return Denial(200, _STATUS, json.dumps(self._done[upload_id]))
            if upload_id in self._held:
                return Denial(308, _STATUS, str(self._held[upload_id]))
        return None

    def error(self, status: int, request: HTTPRequest, *, code: str | None = None,
              message: str | None = None, details: str | None = None) -> tuple[list[tuple[str, str]], bytes]:
        if code != _STATUS:
            return super().error(status, request, code=code, message=message, details=details)
        assert message is not None
        if status == 308:
            held = int(message)
            return [("Range", f"bytes=0-{held - 1}")] if held else [], b""
        bucket, name = json.loads(message)
        payload = json.dumps({"kind": "storage#object", "bucket": bucket, "name": name}).encode()
        return [("Content-Type", "application/json")], payload

    def answered(self, request: HTTPRequest, status: int, headers: Any) -> None:
        super().answered(request, status, headers)
        if request.method not in ("POST", "PUT") or "/upload/" not in request.raw_path:
            return
        upload_id = request.query.get("upload_id")
        location = headers.get("Location") or ""
        if upload_id is None and status == 200 and "upload_id=" in location:  # a session begins
            with self._lock:
                self._held[location.split("upload_id=", 1)[1].split("&", 1)[0]] = 0
            return
        if upload_id is None:
            return
        with self._lock:
            if status == 308:
                range_header = headers.get("Range") or ""
                self._held[upload_id] = int(range_header.rsplit("-", 1)[1]) + 1 if "-" in range_header else 0
            elif status in (200, 201):
                operation = self.classify(request)
                self._held.pop(upload_id, None)
                self._done[upload_id] = (operation.bucket, operation.key)
