"""Customer-supplied encryption keys in object parameters (S3 SSE-C, GCS CSEK): secrets
that ride in a plain option (``AWS_S3_OBJECT_PARAMETERS``, ``GS_OBJECT_PARAMETERS``) and
in what ``get_object_parameters()`` returns, so never pickled, deconstructed or shown."""

from __future__ import annotations

import base64
from typing import Any, Iterable, Mapping


def key_texts(params: Any, names: Iterable[str]) -> list[str]:
    """The texts under which the keys ``params[name]`` could appear in a message: each
    key as given (text, or bytes read as Latin-1) and base64-encoded, as it travels."""
    if not isinstance(params, Mapping):
        return []
    found = []
    for name in names:
        value = params.get(name)
        if isinstance(value, str):
            value = value.encode("utf-8")
        if isinstance(value, (bytes, bytearray)) and value:
            found += [bytes(value).decode("latin-1"), base64.b64encode(value).decode()]
    return found


def without_keys(params: Any, names: Iterable[str]) -> Any:
    """``params`` without the entries ``names`` (what pickles and migrations may carry)."""
    if not isinstance(params, Mapping):
        return params
    dropped = set(names)
    return {k: v for k, v in params.items() if k not in dropped}
