"""GS_CREDENTIALS: service-account keys parsed once per process.

Parsing a key's RSA private key costs tens of milliseconds (OpenSSL checks the key), and a
storage is made for every settings change and every test: ``to_credentials`` keeps each parsed
key, looked up by the SHA-256 of its JSON (so the cache holds no second copy of the key's
text), and gives every storage its own copy of the credentials, sharing only the signer.
Nothing here reaches a storage's ``repr()`` or pickle: the option is secret.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from typing import Any

MAX_KEYS = 16  # distinct keys kept; the oldest is dropped

_parsed: OrderedDict[str, Any] = OrderedDict()
_lock = threading.Lock()


def to_credentials(value: Any) -> Any:
    """GS_CREDENTIALS: a google.auth Credentials object, or a service-account key
    (the path of its JSON file, or its parsed dict)."""
    if isinstance(value, dict):
        return service_account_credentials(value)
    if isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        try:
            with open(path, encoding="utf-8") as key_file:
                text = key_file.read()
        except OSError as exc:
            raise ValueError(f"cannot read the key file {path!r}: {exc}") from None
        try:
            info = json.loads(text)
        except ValueError:
            raise ValueError(f"the key file {path!r} is not JSON") from None
        return service_account_credentials(info)
    return value


def service_account_credentials(info: dict[str, Any]) -> Any:
    """``service_account.Credentials`` for the key ``info``: parsed on its first use in this
    process, a fresh copy (own token, same signer) on every call."""
    from google.oauth2 import service_account

    try:
        digest = hashlib.sha256(json.dumps(info, sort_keys=True).encode()).hexdigest()
    except (TypeError, ValueError):  # not a JSON document: parse it, keep nothing
        return service_account.Credentials.from_service_account_info(info)
    with _lock:
        parsed = _parsed.get(digest)
    if parsed is None:
        parsed = service_account.Credentials.from_service_account_info(info)
        with _lock:
            _parsed[digest] = parsed
            while len(_parsed) > MAX_KEYS:
                _parsed.popitem(last=False)
    return parsed.with_quota_project(parsed.quota_project_id)
