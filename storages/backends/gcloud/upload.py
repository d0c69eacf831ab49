"""Uploads to Google Cloud Storage: one multipart request for a small file, a
resumable session (parts PUT as they come, cancelled on failure) otherwise.

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

# The storage module's logger, so logging configured for it still applies.
logger = logging.getLogger("storages.backends.gcloud")

TIMEOUT = 60  # seconds, for every request to GCS


def check_status(response: Any, expected: tuple[int, ...]) -> Any:
    """Raise the SDK's exception for an unexpected status of a raw request."""
    if response.status_code not in expected:
        from google.api_core.exceptions import from_http_response

        raise from_http_response(response)
    return response


class GCSUpload(Upload):
    """One multipart request for a small file; a resumable session otherwise, its parts
    PUT in order as they come (a session takes bytes only at its persisted offset: no
    part pool). ``abort`` cancels the session; nothing is visible before the end."""

    def __init__(self, client: Any, blob: Any, *, create_only: bool, content_type: str | None,
                 predefined_acl: str | None, missing_bucket: Callable[[], Exception],
                 checksums: bool = True) -> None:
        self._client = client
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
            "PUT", self._session, data=data, headers=headers, timeout=TIMEOUT, allow_redirects=False)

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
        sent = 0
        for _ in range(5):  # the service may persist only part of a chunk: send the rest
            response = self._put(data[sent:], f"bytes {self._offset + sent}-{end - 1}/*")
            check_status(response, (308,))
            persisted = _persisted(response.headers.get("Range"))
            if persisted >= end:
                break
            if persisted < self._offset:
                raise ServiceUnavailable(f"GCS lost acknowledged upload bytes ({persisted} < {self._offset})")
            sent = persisted - self._offset
        else:
            raise ServiceUnavailable(f"GCS kept refusing bytes {self._offset}-{end - 1} of an upload")
        self._offset = end

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
            content_range = f"bytes {self._offset}-{total - 1}/{total}" if tail else f"bytes */{total}"
            check_status(self._put(tail, content_range, final=True), (200, 201))
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


def _persisted(range_header: str | None) -> int:
    """Bytes the service holds, from a resumable 308's ``Range: bytes=0-N``."""
    if not range_header or "-" not in range_header:
        return 0
    return int(range_header.rsplit("-", 1)[1]) + 1
