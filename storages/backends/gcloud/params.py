"""What of ``get_object_parameters()`` GCS reads take, besides the blob properties uploads set.

Two entries are not blob properties:

* ``encryption_key``: a customer-supplied encryption key (CSEK, 32 bytes). The object is
  stored encrypted with it, and read (downloaded) with it: the SDK's ``Blob(encryption_key=)``
  and, on the storage's own requests, the ``x-goog-encryption-*`` headers. A secret: never
  pickled, deconstructed or shown.
* ``generation``: read this generation of the object (versioned buckets); uploads ignore it.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, Mapping

from storages.core.keyed import key_texts, without_keys

KEY, GENERATION = "encryption_key", "generation"


def split(params: Mapping[str, Any]) -> tuple[dict[str, Any], bytes | None, int | None]:
    """``params`` as (blob properties, encryption key, generation)."""
    properties = {k: v for k, v in params.items() if k not in (KEY, GENERATION)}
    key = params.get(KEY)
    if isinstance(key, str):
        key = key.encode("latin-1")
    generation = params.get(GENERATION)
    return properties, key or None, int(generation) if generation else None


def for_upload(params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without what only reads take (``generation``)."""
    return {k: v for k, v in params.items() if k != GENERATION}


def key_headers(key: bytes | None) -> dict[str, str]:
    """The request headers of a customer-supplied key (none without one)."""
    if not key:
        return {}
    return {"x-goog-encryption-algorithm": "AES256",
            "x-goog-encryption-key": base64.b64encode(key).decode(),
            "x-goog-encryption-key-sha256": base64.b64encode(hashlib.sha256(key).digest()).decode()}


def secret_values(params: Any) -> list[str]:
    """The texts under which the key of ``params`` could appear in a message."""
    return key_texts(params, (KEY,))


def without_secrets(params: Any) -> Any:
    """``params`` without its key (what pickles and migrations may carry)."""
    return without_keys(params, (KEY,))
