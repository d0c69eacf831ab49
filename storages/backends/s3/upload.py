"""Uploads to S3: one PUT for a small file, a multipart upload (parts on the core's
PartPool, aborted on failure) otherwise; create-only commits send ``If-None-Match: *``.

Integrity: botocore sends a CRC32 of each request body (its ``request_checksum_calculation``,
``when_supported`` by default), which S3 checks. A multipart upload also declares a
full-object CRC32 (``ChecksumType=FULL_OBJECT``), computed here as the parts go by, so S3
checks the whole object and reports that checksum on reads (the shared reader verifies it).
With ``request_checksum_calculation = "when_required"`` (for S3-compatible services that
refuse checksums) none is sent.
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

from storages.core import Upload
from storages.core.parallel import PartPool


class S3Upload(Upload):
    """One PUT for a small file; a multipart upload, aborted on failure, otherwise.

    Create-only commits send ``If-None-Match: *``, so S3 refuses to replace an
    existing object even under a race."""

    def __init__(self, client: Any, bucket: str, key: str, params: dict[str, Any], create_only: bool,
                 max_in_flight: int = 1) -> None:
        self._client = client
        self._target = {"Bucket": bucket, "Key": key}
        self._params = params
        self._create_only = create_only
        self._upload_id: str | None = None
        self._parts = PartPool(max_in_flight)
        self._count = 0
        # A full-object CRC32, unless checksums are off or the caller picked its own algorithm.
        calculation = getattr(client.meta.config, "request_checksum_calculation", "when_supported")
        self._crc: int | None = 0 if calculation != "when_required" and "ChecksumAlgorithm" not in params \
            else None

    def _condition(self) -> dict[str, str]:
        return {"IfNoneMatch": "*"} if self._create_only else {}

    def write_part(self, data: bytes) -> None:
        if self._upload_id is None:
            full = {} if self._crc is None else {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}
            created = self._client.create_multipart_upload(**self._target, **self._params, **full)
            self._upload_id = created["UploadId"]
        if self._crc is not None:
            self._crc = zlib.crc32(data, self._crc)
        self._count += 1
        self._parts.submit(self._send_part, self._upload_id, self._count, data)

    def _send_part(self, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        crc32 = {"ChecksumAlgorithm": "CRC32"} if self._crc is not None else {}
        response = self._client.upload_part(**self._target, UploadId=upload_id, PartNumber=number, Body=data,
                                            **crc32)
        part = {"ETag": response["ETag"], "PartNumber": number}
        if self._crc is not None:
            part["ChecksumCRC32"] = response["ChecksumCRC32"]
        return part

    def _whole(self) -> dict[str, str]:
        if self._crc is None:
            return {}
        return {"ChecksumCRC32": base64.b64encode(self._crc.to_bytes(4, "big")).decode(),
                "ChecksumType": "FULL_OBJECT"}

    def commit(self, tail: bytes) -> None:
        if self._upload_id is None:
            self._client.put_object(**self._target, Body=tail, **self._params, **self._condition())
            return
        try:
            if tail:
                self.write_part(tail)
            parts = self._parts.wait()
            self._client.complete_multipart_upload(
                **self._target, UploadId=self._upload_id, MultipartUpload={"Parts": parts},
                **self._condition(), **self._whole())
        except BaseException:
            self.abort()
            raise
        self._upload_id = None

    def abort(self) -> None:
        upload_id, self._upload_id = self._upload_id, None
        self._parts.cancel()
        if upload_id is not None:
            self._client.abort_multipart_upload(**self._target, UploadId=upload_id)
