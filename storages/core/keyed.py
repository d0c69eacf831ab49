"""Customer-supplied encryption keys in object parameters (S3 SSE-C, GCS CSEK): secrets
that ride in a plain option (``AWS_S3_OBJECT_PARAMETERS``, ``GS_OBJECT_PARAMETERS``) and
in what ``get_object_parameters()`` returns, so never pickled, deconstructed or shown."""

from __future__ import annotations

import base64
from typing import Any, Iterable, Mapping

from .errors import StorageError, redact


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


class KeyedObjectParameters:
    """Storage mixin (before ``BaseStorage``): the ``object_parameters`` option may hold
    customer keys; ``key_rules`` (a module with ``secret_values(params)`` and
    ``without_secrets(params)``) says which. They are redacted from messages and left
    out of pickles and ``deconstruct()``; a restored storage gets them again from settings."""

    key_rules: Any
    object_parameters: Any

    def _without_secrets(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs = super()._without_secrets(kwargs)  # type: ignore[misc]
        if "object_parameters" in kwargs:
            kwargs["object_parameters"] = self.key_rules.without_secrets(kwargs["object_parameters"])
        return kwargs

    def _secret_strings(self) -> list[str]:
        return super()._secret_strings() + self.key_rules.secret_values(self.object_parameters)  # type: ignore[misc]

    def unexpected_error(self, exc: BaseException, name: str) -> StorageError:
        error: StorageError = super().unexpected_error(exc, name)  # type: ignore[misc]
        try:  # a key get_object_parameters() gives for this name only
            secrets = self.key_rules.secret_values(self.get_object_parameters(name))  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - the error being reported matters more
            secrets = []
        return StorageError(redact(str(error), secrets)) if secrets else error
