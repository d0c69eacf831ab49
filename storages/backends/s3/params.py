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

from typing import Any, Mapping

from storages.core.keyed import key_texts, without_keys

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


#: What a read refused for want of the object's SSE-C key is told.
READ_HINT = ("An object stored with a customer-provided key (SSE-C) is read with the same "
             "SSECustomerAlgorithm and SSECustomerKey in get_object_parameters() or AWS_S3_OBJECT_PARAMETERS")


def refused_read(code: str, exc: Any) -> bool:
    """Whether S3 refused a HEAD/GET as it refuses one without (or with a needless) SSE-C key."""
    return code in {"400", "BadRequest", "InvalidRequest", "InvalidArgument"} and \
        getattr(exc, "operation_name", "") in {"HeadObject", "GetObject"}


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
    """The texts under which an SSE-C key of ``params`` could appear in a message."""
    return key_texts(params, SECRET)


def without_secrets(params: Any) -> Any:
    """``params`` without its SSE-C entries (what pickles and migrations may carry)."""
    return without_keys(params, SSE_C)
