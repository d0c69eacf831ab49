"""Uploads to S3: one PUT for a file under the multipart threshold, a multipart upload
(parts on the core's PartPool, aborted on failure) otherwise; create-only commits send
``If-None-Match: *``.

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

MIN_PART_SIZE = 5 * 1024 * 1024  # S3 refuses smaller parts (but the last)


def transfer_settings(transfer: Any, use_threads: bool, default_part: int,
                      default_concurrency: int) -> tuple[int, int, int]:
    """``(part size, multipart threshold, parts at once)`` from a boto3 ``TransferConfig``
    (or None: the defaults, a threshold of one part) and AWS_S3_USE_THREADS, as upstream."""
    part_size = max(MIN_PART_SIZE, getattr(transfer, "multipart_chunksize", 0) or default_part)
    threshold = getattr(transfer, "multipart_threshold", None) or part_size
    threads = use_threads and getattr(transfer, "use_threads", True)
    concurrency = (getattr(transfer, "max_concurrency", None) or default_concurrency) if threads else 1
    return part_size, threshold, concurrency


class S3Upload(Upload):
    """One PUT for a file smaller than ``threshold`` bytes (boto3's ``multipart_threshold``;
    parts are held until it is reached; None: for a file of less than one part); a multipart
    upload, aborted on failure, otherwise.

    Create-only commits send ``If-None-Match: *``, so S3 refuses to replace an
    existing object even under a race."""

    def __init__(self, client: Any, bucket: str, key: str, params: dict[str, Any], create_only: bool,
                 max_in_flight: int = 1, threshold: int | None = None,
                 part_params: dict[str, Any] | None = None) -> None:
        self._client = client
        self._target = {"Bucket": bucket, "Key": key}
        self._params = params
        self._part_params = part_params or {}  # SSE-C keys etc., repeated on every part
        self._create_only = create_only
        self._upload_id: str | None = None
        self._parts = PartPool(max_in_flight)
        self._count = 0
        self._threshold = threshold
        self._held: list[bytes] = []  # parts kept back while the file may still be under the threshold
        self._held_size = 0
        # A full-object CRC32, unless checksums are off or the caller picked its own algorithm.
        calculation = getattr(client.meta.config, "request_checksum_calculation", "when_supported")
        self._crc: int | None = 0 if calculation != "when_required" and "ChecksumAlgorithm" not in params \
            else None

    def _condition(self) -> dict[str, str]:
        return {"IfNoneMatch": "*"} if self._create_only else {}

    def write_part(self, data: bytes) -> None:
        if self._upload_id is None:
            if self._threshold is not None and self._held_size + len(data) < self._threshold:
                self._held.append(data)
                self._held_size += len(data)
                return
            full = {} if self._crc is None else {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"}
            created = self._client.create_multipart_upload(**self._target, **self._params, **full)
            self._upload_id = created["UploadId"]
            held, self._held, self._held_size = self._held, [], 0
            for part in held:
                self._send(part)
        self._send(data)

    def _send(self, data: bytes) -> None:
        if self._crc is not None:  # parts are sent in order: the whole object's CRC32
            self._crc = zlib.crc32(data, self._crc)
        self._count += 1
        self._parts.submit(self._send_part, self._upload_id, self._count, data)

    def _send_part(self, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        crc32 = {"ChecksumAlgorithm": "CRC32"} if self._crc is not None else {}
        response = self._client.upload_part(**self._target, UploadId=upload_id, PartNumber=number, Body=data,
                                            **crc32, **self._part_params)
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
        # (max: an empty file is always one PUT)
        if self._upload_id is None and (self._threshold is None
                                        or self._held_size + len(tail) < max(self._threshold, 1)):
            body = b"".join([*self._held, tail]) if self._held else tail
            self._held, self._held_size = [], 0
            self._client.put_object(**self._target, Body=body, **self._params, **self._condition())
            return
        try:
            if tail or self._upload_id is None:
                self.write_part(tail)
            parts = self._parts.wait()
            self._client.complete_multipart_upload(
                **self._target, UploadId=self._upload_id, MultipartUpload={"Parts": parts},
                **self._condition(), **self._whole(), **self._part_params)
        except BaseException:
            self.abort()
            raise
        self._upload_id = None

    def abort(self) -> None:
        self._held, self._held_size = [], 0
        upload_id, self._upload_id = self._upload_id, None
        self._parts.cancel()
        if upload_id is not None:
            self._client.abort_multipart_upload(**self._target, UploadId=upload_id)
