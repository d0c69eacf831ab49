"""S3's whole-object checksums on reads: the digests a GET or HEAD reports, and one check
of them, not two (the shared reader's, across resumed requests, rather than botocore's too)."""

from __future__ import annotations

from typing import Any

from storages.core import ObjectInfo
from storages.core.checksums import decode

#: Response fields of whole-object checksums -> storages.core.checksums algorithms.
CHECKSUMS = {"ChecksumCRC32": "crc32", "ChecksumCRC32C": "crc32c", "ChecksumSHA256": "sha256",
             "ChecksumSHA1": "sha1"}


def one_check(body: Any, info: ObjectInfo) -> Any:
    """The body without botocore's own check of a whole GET when the shared reader checks the
    same digest (across resumed requests too): one pass over the bytes, not two."""
    from botocore.httpchecksum import StreamingChecksumBody
    from botocore.response import StreamingBody

    raw = getattr(body, "_raw_stream", None)
    if not info.checksums or not isinstance(body, StreamingChecksumBody) or raw is None:
        return body
    return StreamingBody(raw, getattr(body, "_content_length", None))


def digests(response: dict[str, Any]) -> dict[str, bytes]:
    """The whole-object digests of a GetObject/HeadObject response (algorithm -> raw bytes)."""
    found: dict[str, bytes] = {}
    if response.get("ChecksumType") == "COMPOSITE":  # a checksum of part checksums ("...-N") covers no bytes
        return found
    for field, algorithm in CHECKSUMS.items():
        value = response.get(field)
        if value and "-" not in value and (digest := decode(value)):
            found[algorithm] = digest
    return found
