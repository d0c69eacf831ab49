"""Which objects were stored with which customer-provided key, for the fronts of emulators
that accept the key headers and ignore them (moto: SSE-C, fake-gcs-server: CSEK, Azurite:
CPK). The fronts remember each key's digest (never the key) from the uploads the service
accepted, and check reads against it as the real service does."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from typing import Hashable

from .classify import HTTPRequest

Where = tuple[str, str]  # (bucket or container, key)

#: :meth:`KeyLedger.verdict` results.
MISSING, WRONG, UNEXPECTED = "missing", "wrong", "unexpected"


class BadKey(ValueError):
    """Key headers the service refuses; ``reason``: "algorithm", "key" or "digest"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def key_digest(request: HTTPRequest, *, algorithm: str, key: str, digest: str, hash_name: str) -> str | None:
    """The ``hash_name`` digest (base64) of the customer key in the request's ``key`` header,
    None without key headers; :class:`BadKey` unless the ``algorithm`` header says AES256,
    the key is 32 bytes of base64 and the ``digest`` header, if sent, matches it."""
    named_algorithm, given_key, given_digest = (request.header(name) for name in (algorithm, key, digest))
    if not (named_algorithm or given_key or given_digest):
        return None
    if named_algorithm != "AES256" or not given_key:
        raise BadKey("algorithm")
    try:
        raw = base64.b64decode(given_key, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:  # AES256: a 256-bit key
        raise BadKey("key")
    computed = base64.b64encode(hashlib.new(hash_name, raw).digest()).decode()
    if given_digest and given_digest != computed:
        raise BadKey("digest")
    return computed


class KeyLedger:
    """Objects' key digests (None: stored without a key), and those of uploads in progress."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stored: dict[Where, str | None] = {}
        self._begun: dict[Hashable, str | None] = {}
        self._keyed = False

    def __bool__(self) -> bool:
        """Whether any upload was seen with a key (until then nothing needs checking). Kept
        as a flag: the fronts ask on every request, and the ledger grows with every object."""
        return self._keyed

    def store(self, where: Where, digest: str | None) -> None:
        """An object was stored at ``where`` with the key of ``digest`` (None: without)."""
        with self._lock:
            self._stored[where] = digest
            self._keyed = self._keyed or digest is not None

    def begin(self, upload: Hashable, digest: str | None) -> None:
        """A multipart/resumable ``upload`` was begun with the key of ``digest``."""
        with self._lock:
            self._begun[upload] = digest
            self._keyed = self._keyed or digest is not None

    def began_with(self, upload: Hashable) -> str | None:
        """The key digest ``upload`` was begun with (None: none, or an upload not seen)."""
        with self._lock:
            return self._begun.get(upload)

    def finish(self, upload: Hashable, where: Where) -> None:
        """``upload`` made its object at ``where``."""
        with self._lock:
            self._stored[where] = self._begun.pop(upload, None)

    def forget(self, where: Where | None = None) -> None:
        """The object at ``where`` was deleted (None: the emulator was wiped)."""
        with self._lock:
            if where is None:
                self._stored.clear()
                self._begun.clear()
                self._keyed = False
            else:
                self._stored.pop(where, None)

    def verdict(self, where: Where, given: str | None) -> str | None:
        """What the service says to a read of ``where`` with the key of ``given``: None (served,
        or an object not seen here), :data:`MISSING`, :data:`WRONG` or :data:`UNEXPECTED`."""
        with self._lock:
            if where not in self._stored:
                return None
            stored = self._stored[where]
        return self.verdict_of(stored, given)

    @staticmethod
    def verdict_of(stored: str | None, given: str | None) -> str | None:
        """:meth:`verdict` for an object (or upload) keyed with ``stored``."""
        if stored is None:
            return UNEXPECTED if given is not None else None
        if given is None:
            return MISSING
        return WRONG if given != stored else None
