"""Uploads to S3: one PUT for a small file, a multipart upload (parts on the core's
PartPool, aborted on failure) otherwise; create-only commits send ``If-None-Match: *``."""

from __future__ import annotations

from typing import Any

from storages.core import Upload
from storages.core.parallel import PartPool


class S3Upload(Upload):
    """One PUT for a small file; a multipart upload, aborted on failure, otherwise.

    Create-only commits send ``If-None-Match: *``, so S3 refuses to replace an
    existing object even under a race."""

    def __init__(self, client: Any, bucket: str, key: str, params: dict[str, Any], create_only: bool,
                 max_in_flight: int = 1, part_params: dict[str, Any] | None = None) -> None:
        self._client = client
        self._target = {"Bucket": bucket, "Key": key}
        self._params = params
        self._part_params = part_params or {}  # SSE-C keys etc., repeated on every part
        self._create_only = create_only
        self._upload_id: str | None = None
        self._parts = PartPool(max_in_flight)
        self._count = 0

    def _condition(self) -> dict[str, str]:
        return {"IfNoneMatch": "*"} if self._create_only else {}

    def write_part(self, data: bytes) -> None:
        if self._upload_id is None:
            created = self._client.create_multipart_upload(**self._target, **self._params)
            self._upload_id = created["UploadId"]
        self._count += 1
        self._parts.submit(self._send_part, self._upload_id, self._count, data)

    def _send_part(self, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        response = self._client.upload_part(**self._target, UploadId=upload_id, PartNumber=number, Body=data,
                                            **self._part_params)
        return {"ETag": response["ETag"], "PartNumber": number}

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
                **self._condition(), **self._part_params)
        except BaseException:
            self.abort()
            raise
        self._upload_id = None

    def abort(self) -> None:
        upload_id, self._upload_id = self._upload_id, None
        self._parts.cancel()
        if upload_id is not None:
            self._client.abort_multipart_upload(**self._target, UploadId=upload_id)
