"""Which objects were stored with which customer-provided key, for the fronts of emulators
that accept the key headers and ignore them (moto: SSE-C, fake-gcs-server: CSEK, Azurite:
CPK). The fronts remember each key's digest (never the key) from the uploads the service
accepted, and check reads against it as the real service does."""

from __future__ import annotations

import threading
from typing import Hashable

Where = tuple[str, str]  # (bucket or container, key)

#: :meth:`KeyLedger.verdict` results.
MISSING, WRONG, UNEXPECTED = "missing", "wrong", "unexpected"


class KeyLedger:
    """Objects' key digests (None: stored without a key), and those of uploads in progress."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stored: dict[Where, str | None] = {}
        self._begun: dict[Hashable, str | None] = {}

    def __bool__(self) -> bool:
        """Whether any upload was seen with a key (until then nothing needs checking)."""
        return any(v is not None for v in (*self._stored.values(), *self._begun.values()))

    def store(self, where: Where, digest: str | None) -> None:
        """An object was stored at ``where`` with the key of ``digest`` (None: without)."""
        with self._lock:
            self._stored[where] = digest

    def begin(self, upload: Hashable, digest: str | None) -> None:
        """A multipart/resumable ``upload`` was begun with the key of ``digest``."""
        with self._lock:
            self._begun[upload] = digest

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
