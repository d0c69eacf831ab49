"""Uploads to Google Cloud Storage: one multipart request for a small file, a
resumable session (parts PUT as they come, resumed after transient errors (``.retry``),
cancelled on failure) otherwise.

Integrity: a small file's metadata carries its CRC32C (the SDK computes it); a resumable
upload's last request carries ``X-Goog-Hash: crc32c=...`` of the whole object, computed as
the parts go by. GCS refuses an upload whose bytes do not match, and nothing is stored.
"""

from __future__ import annotations

import base64
import io
import logging
from typing import Any, Callable

from storages.core import ServiceUnavailable, Upload
from storages.core.checksums import Crc32c

from .retry import (
    ATTEMPTS,
    FINISHED,
    TIMEOUT,
    check_status,
    delays,
    is_transient,
    pause,
    persisted,
    session_status,
)

# The storage module's logger, so logging configured for it still applies.
logger = logging.getLogger("storages.backends.gcloud")


class GCSUpload(Upload):
    """One multipart request for a small file; a resumable session otherwise, its parts
    PUT in order as they come (a session takes bytes only at its persisted offset: no
    part pool). ``abort`` cancels the session; nothing is visible before the end."""

    def __init__(self, client: Any, blob: Any, *, create_only: bool, content_type: str | None,
                 predefined_acl: str | None, missing_bucket: Callable[[], Exception],
                 checksums: bool = True, headers: dict[str, str] | None = None) -> None:
        self._client = client
        self._headers = headers or {}  # a customer-supplied key's, on every chunk
        self._missing_bucket = missing_bucket
        self._blob = blob
        self._create_only = create_only
        self._content_type = content_type
        self._acl = predefined_acl
        self._session: str | None = None
        self._offset = 0
        self._crc32c = Crc32c() if checksums else None

    def _put(self, data: bytes, content_range: str, final: bool = False) -> Any:
        headers = {"Content-Range": content_range}
        if final and self._crc32c is not None:
            headers["X-Goog-Hash"] = f"crc32c={base64.b64encode(self._crc32c.digest()).decode()}"
        return self._client._http.request(
            "PUT", self._session, data=data, headers={**self._headers, **headers}, timeout=TIMEOUT,
            allow_redirects=False)

    def write_part(self, data: bytes) -> None:
        from google.api_core.exceptions import NotFound

        if self._session is None:
            try:
                self._session = self._blob.create_resumable_upload_session(
                    content_type=self._content_type, client=self._client, timeout=TIMEOUT,
                    predefined_acl=self._acl, if_generation_match=0 if self._create_only else None)
            except NotFound as exc:
                raise self._missing_bucket() from exc
        if self._crc32c is not None:
            self._crc32c.update(data)
        end = self._offset + len(data)
        self._send(data, end, total=None)
        self._offset = end

    def _send(self, data: bytes, end: int, total: int | None) -> None:
        """PUT ``data`` (bytes ``_offset``..``end``-1) until the session holds all of it (and,
        given the ``total``, has made the object). A transient failure asks the session how
        much it holds and resumes there; a part it held only in part is completed."""
        sent = 0  # bytes of ``data`` the session holds
        tries = delays()
        for _ in range(ATTEMPTS + 5):  # the service may persist only part of a chunk: send the rest
            try:
                response = self._put(data[sent:], _content_range(self._offset + sent, end, total),
                                     final=total is not None)
                if total is not None and response.status_code in (200, 201):
                    return
                check_status(response, (308,))
                held = persisted(response.headers.get("Range"))
            except Exception as exc:
                delay = next(tries, None)
                if delay is None or not is_transient(exc):
                    raise
                pause(exc, f"upload of bytes {self._offset + sent}-{end - 1}", delay)
                held = session_status(self._client, self._session, TIMEOUT)
                if held == FINISHED and total is not None:
                    return  # the last chunk made the object; only its answer was lost
            if held == FINISHED or held < self._offset:
                raise ServiceUnavailable(f"GCS lost acknowledged upload bytes ({held} < {self._offset})")
            if held >= end and total is None:
                return
            sent = held - self._offset
        raise ServiceUnavailable(f"GCS kept refusing bytes {self._offset}-{end - 1} of an upload")

    def commit(self, tail: bytes) -> None:
        from google.api_core.exceptions import NotFound

        precondition = 0 if self._create_only else None
        if self._session is None:
            try:  # a refused precondition (the name is taken) is translated by the storage
                self._blob.upload_from_file(
                    io.BytesIO(tail), size=len(tail), content_type=self._content_type, client=self._client,
                    predefined_acl=self._acl, if_generation_match=precondition, timeout=TIMEOUT,
                    checksum="crc32c" if self._crc32c is not None else None)
            except NotFound as exc:
                raise self._missing_bucket() from exc
            return
        try:
            if self._create_only and self._blob.bucket.get_blob(self._blob.name, client=self._client):
                # The session's ifGenerationMatch=0 refuses this at GCS (and at our emulator's
                # front); a bare fake-gcs-server ignores it on resumable uploads, so look first too.
                raise FileExistsError(f"{self._blob.name!r} already exists")
            if self._crc32c is not None:
                self._crc32c.update(tail)
            total = self._offset + len(tail)
            self._send(tail, total, total=total)
        except BaseException:
            self.abort()
            raise
        self._session = None

    def abort(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:  # GCS answers 499 to a cancelled session; a failed cancel leaves nothing visible either
            self._client._http.request("DELETE", session, timeout=TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - never mask the error that caused the abort
            logger.warning("Could not cancel a GCS resumable upload session: %s", exc)


def _content_range(start: int, end: int, total: int | None) -> str:
    """The ``Content-Range`` of a chunk of bytes ``start``..``end``-1 (none: a bare
    finalisation) of an upload whose ``total`` size is known only with its last chunk."""
    size = "*" if total is None else str(total)
    return f"bytes {start}-{end - 1}/{size}" if end > start else f"bytes */{size}"
