"""Moving bytes to and from Azure: a streamed download, and block uploads staged on the
core's PartPool and committed as a block list.

Integrity: each block (and a small file's Put Blob) carries its Content-MD5, which Azure
checks. A Put Blob's MD5 is stored by Azure as the blob's Content-MD5; a block blob's commit
stores the blob's CRC32 as metadata (:data:`CRC32_METADATA`), which reads are checked against
(storages.core.checksums). A CRC32 rather than a second MD5 over every byte: it costs a third
of one, so checksums end to end cost about one MD5 pass on writes, and reads check the
cheaper digest. Both digests of a block are computed on the thread that sends it (the SDK
makes the MD5), in parallel with the others; the blocks' CRC32s are combined at the commit."""

from __future__ import annotations

import base64
import uuid
import zlib
from typing import Any

from storages.core import PartPool, Upload
from storages.core.checksums import crc32_combine, decode
from storages.core.streams import ChunkStream

#: Metadata name under which a block blob's commit stores the CRC32 of its bytes (base64 of
#: the 4 big-endian bytes, as S3 sends a CRC32); reads check it (``AzureStorage._stat``).
CRC32_METADATA = "storages_crc32"


def stored_checksums(properties: Any) -> dict[str, bytes]:
    """The digests of a blob Azure reports: its Content-MD5, and the CRC32 our commit stored."""
    found: dict[str, bytes] = {}
    md5 = getattr(getattr(properties, "content_settings", None), "content_md5", None)
    if md5:
        found["md5"] = bytes(md5)
    crc = decode((getattr(properties, "metadata", None) or {}).get(CRC32_METADATA))
    if crc and len(crc) == 4:
        found["crc32"] = crc
    return found


def streamed_download(blob_client: Any, start: int, timeout: int) -> tuple[ChunkStream, Any, int]:
    """The blob from ``start`` as one streamed GET: ``(stream, BlobProperties, size of the
    whole blob)``. The SDK's ``download_blob`` fetches the blob in ranged GETs of
    ``max_chunk_get_size``, each held whole in memory, so bounding memory meant a request per
    2 MiB (and on Azurite, whose cost is per request, half the raw SDK's read rate). Here
    memory is one block of the response (``connection_data_block_size``) and a read of any
    size is one request. It is the SDK's own download call (``_client.blob.download``, which
    ``download_blob`` makes), with its deserializer and its error processing; a client with
    client-side encryption keeps ``download_blob``, which decrypts."""
    from azure.core.exceptions import HttpResponseError
    from azure.storage.blob._deserialize import deserialize_blob_stream
    from azure.storage.blob._shared.response_handlers import process_storage_error

    try:
        _, body = blob_client._client.blob.download(
            range=f"bytes={start}-" if start else None, timeout=timeout, cls=deserialize_blob_stream,
            decompress=False)
    except HttpResponseError as exc:
        process_storage_error(exc)  # raises the error download_blob would raise
    properties = body.properties
    size = properties.size  # the length of this response
    if start and properties.content_range:  # "bytes start-end/total"
        size = int(properties.content_range.rpartition("/")[2])
    return ChunkStream(body), properties, size


def can_stream(blob_client: Any) -> bool:
    """Whether :func:`streamed_download` serves this client: no client-side encryption and no
    snapshot (reads with a customer-provided key or a version_id keep ``download_blob`` too)."""
    return not getattr(blob_client, "snapshot", None) and not any(
        getattr(blob_client, name, None)
        for name in ("key_encryption_key", "require_encryption", "key_resolver_function"))


class Download:
    """A readable stream over a ``StorageStreamDownloader`` (which fetches chunk by chunk)."""

    def __init__(self, downloader: Any) -> None:
        self._downloader: Any = downloader

    def read(self, n: int = -1) -> bytes:
        if self._downloader is None:
            raise ValueError("read from a closed Azure download")
        return self._downloader.read(n)

    def close(self) -> None:
        self._downloader = None


class BlockUpload(Upload):
    """Stage a block per part (up to AZURE_UPLOAD_MAX_CONN at once, on the core's PartPool);
    commit the block list.

    Staged blocks stay invisible until the commit, so abort only forgets them
    (Azure discards uncommitted blocks). A file without parts is one Put Blob.
    """

    def __init__(self, client: Any, settings: Any, create_only: bool, *, max_conn: int, timeout: int,
                 conditions: dict[str, Any] | None = None, checksums: bool = True,
                 keywords: dict[str, Any] | None = None) -> None:
        self._timeout = timeout
        self._keywords = keywords or {}  # a customer-provided key's, on every request
        self._conditions = conditions or {}  # of the commit (etag/match_condition)
        self._client = client
        self._settings = settings
        self._create_only = create_only
        self._prefix = uuid.uuid4().hex[:24]
        self._blocks: list[str] = []
        self._parts = PartPool(max_conn)
        self._checksums = checksums

    def write_part(self, data: bytes) -> None:
        block_id = base64.b64encode(f"{self._prefix}{len(self._blocks):08d}".encode()).decode()
        self._blocks.append(block_id)
        self._parts.submit(self._stage, block_id, data)

    def _stage(self, block_id: str, data: bytes) -> tuple[int, int] | None:
        """Put Block; returns the block's (CRC32, length) when checksums are on."""
        crc = (zlib.crc32(data), len(data)) if self._checksums else None
        self._client.stage_block(block_id, data, length=len(data), timeout=self._timeout,  # Content-MD5:
                                 validate_content=self._checksums, **self._keywords)  # Azure checks it
        return crc

    def commit(self, tail: bytes) -> None:
        # A refused create-only commit (the name is taken) is translated by the storage;
        # after any failure the shared writer calls abort(), which stops the part pool.
        timeout = self._timeout
        if not self._blocks:
            # One request; overwrite=False makes the SDK send If-None-Match: *.
            self._client.upload_blob(tail, length=len(tail), overwrite=not self._create_only,
                                     content_settings=self._settings, max_concurrency=1, timeout=timeout,
                                     validate_content=self._checksums, **self._conditions,
                                     **self._keywords)
            return
        if tail:
            self.write_part(tail)
        blocks = self._parts.wait()  # in submission order
        metadata = {}
        if self._checksums:
            whole = 0
            for crc, length in blocks:
                whole = crc32_combine(whole, crc, length)
            metadata[CRC32_METADATA] = base64.b64encode(whole.to_bytes(4, "big")).decode()
        conditions: dict[str, Any] = dict(self._conditions)
        if self._create_only:
            from azure.core import MatchConditions

            conditions = {"match_condition": MatchConditions.IfMissing}  # If-None-Match: *
        self._client.commit_block_list(self._blocks, content_settings=self._settings, metadata=metadata,
                                       timeout=timeout, **conditions, **self._keywords)

    def abort(self) -> None:
        self._parts.cancel()
        self._blocks = []
