"""What of ``get_object_parameters()`` Azure reads take, besides the ContentSettings uploads set.

* ``cpk``: a customer-provided key (``azure.storage.blob.CustomerProvidedEncryptionKey``)
  that blobs are written (every block, the block list) and read with. A secret: never
  pickled, deconstructed or shown. Azure takes it over HTTPS only.
* ``version_id``: read that version of the blob (accounts with versioning on).
* ``snapshot``: read that snapshot of the blob.

Uploads ignore ``version_id`` and ``snapshot``.
"""

from __future__ import annotations

from typing import Any, Mapping

from storages.core.keyed import key_texts, without_keys

CPK, VERSION_ID, SNAPSHOT = "cpk", "version_id", "snapshot"
EXTRA = (CPK, VERSION_ID, SNAPSHOT)


def split(params: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """``params`` as (ContentSettings keywords, keywords of reads and writes, snapshot);
    the second holds ``cpk`` and, for reads, ``version_id``."""
    settings = {k: v for k, v in params.items() if k not in EXTRA}
    keywords = {k: params[k] for k in (CPK, VERSION_ID) if params.get(k)}
    return settings, keywords, params.get(SNAPSHOT) or None


def write_keywords(keywords: Mapping[str, Any]) -> dict[str, Any]:
    """What of :func:`split`'s keywords an upload takes (the key, not the version)."""
    return {k: v for k, v in keywords.items() if k == CPK}


def secret_values(params: Any) -> list[str]:
    """The texts under which the key of ``params`` could appear in a message."""
    cpk = params.get(CPK) if isinstance(params, Mapping) else None
    return key_texts({CPK: getattr(cpk, "key_value", None)}, (CPK,))


def without_secrets(params: Any) -> Any:
    """``params`` without its key (what pickles and migrations may carry)."""
    return without_keys(params, (CPK,))
