"""Which of ``get_object_parameters()`` each S3 request takes (upstream's rule: boto3's lists).

``get_object_parameters(name)`` holds what a user sets per object: ``put_object`` keywords,
some of which reads need too (an object stored with a customer-provided key, SSE-C, is
read with that key) and some of which only reads take (``VersionId``, ``ChecksumMode``).
The lists are boto3's own (``S3Transfer.ALLOWED_DOWNLOAD_ARGS``, s3transfer's
``UPLOAD_PART_ARGS`` and ``COMPLETE_MULTIPART_ARGS``), so a name set here means the same
as in ``boto3.download_file``/``upload_file``. SSE-C keys are secrets: never pickled or
shown (:func:`secret_values`, :func:`without_secrets`).
"""

from __future__ import annotations

import base64
from typing import Any, Mapping

#: Parameters HEAD and GET take (boto3's ``S3Transfer.ALLOWED_DOWNLOAD_ARGS``).
READ = ("ChecksumMode", "VersionId", "SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5",
        "RequestPayer", "ExpectedBucketOwner")
#: Parameters only reads take: an upload given them would be refused.
READ_ONLY = ("ChecksumMode", "VersionId")
#: Parameters every part of a multipart upload, and its completion, repeat (s3transfer's
#: ``UPLOAD_PART_ARGS``/``COMPLETE_MULTIPART_ARGS``, minus checksums, which the upload sets).
PART = ("SSECustomerAlgorithm", "SSECustomerKey", "SSECustomerKeyMD5", "RequestPayer", "ExpectedBucketOwner")
#: Parameters that are secrets.
SECRET = ("SSECustomerKey", "CopySourceSSECustomerKey")
#: What pickles and migrations leave out with them (an algorithm without its key is refused).
SSE_C = (*SECRET, "SSECustomerAlgorithm", "SSECustomerKeyMD5", "CopySourceSSECustomerAlgorithm",
         "CopySourceSSECustomerKeyMD5")


def read_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of ``params`` that HEAD and GET take."""
    return {k: v for k, v in params.items() if k in READ}


def upload_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without what only reads take."""
    return {k: v for k, v in params.items() if k not in READ_ONLY}


def part_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters each part and the completion of a multipart upload repeat."""
    return {k: v for k, v in params.items() if k in PART}


def secret_values(params: Any) -> list[str]:
    """The texts under which a secret of ``params`` could appear in a message: the key as
    given (text, or bytes read as Latin-1) and base64-encoded, as it travels."""
    if not isinstance(params, Mapping):
        return []
    found = []
    for name in SECRET:
        value = params.get(name)
        if isinstance(value, str):
            value = value.encode("utf-8")
        if isinstance(value, (bytes, bytearray)) and value:
            found += [bytes(value).decode("latin-1"), base64.b64encode(value).decode()]
    return found


def without_secrets(params: Any) -> Any:
    """``params`` without its SSE-C entries (what pickles and migrations may carry)."""
    if not isinstance(params, Mapping):
        return params
    return {k: v for k, v in params.items() if k not in SSE_C}
