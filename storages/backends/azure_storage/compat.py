"""Upstream's (django-storages 1.14) Azure API on ``AzureStorage``.

:class:`AzureStorageFile` is what ``open()`` returns; it opens upstream's ``a``,
``r+``, ``w+`` and ``a+`` modes too (read, change, write back: ``storages.core.update``).
Azure cannot change a block blob in place, so such a file is written back whole on
close, and only if the blob is unchanged since it was read (``If-Match``).
:class:`AzureCompat` adds ``list_all()`` and ``get_user_delegation_key()``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from storages.core import Upload, translated
from storages.core.compat import BackendFile
from storages.core.names import dir_prefix, relative_to_root


class AzureStorageFile(BackendFile):
    """What ``AzureStorage.open()`` returns (upstream's ``AzureStorageFile``)."""


class AzureCompat:
    """Mixin for ``AzureStorage`` (see the module docstring)."""

    update_modes = True
    root: str
    token_credential: Any
    _key: Callable[[str], str]
    _container: Callable[[], Any]
    _begin_upload: Callable[..., Upload]
    _user_delegation_key: Callable[[datetime], Any]
    timeout: int

    def list_all(self, path: str = "") -> list[str]:
        """The names of every file under ``path``, at any depth (upstream's ``list_all``).

        Names are storage names (relative to AZURE_LOCATION), so ``open()`` takes them."""
        prefix = dir_prefix(self._key(path))
        with translated(self, path):
            blobs = self._container().list_blobs(name_starts_with=prefix or None, timeout=self.timeout)
            return [relative_to_root(self.root, blob.name) for blob in blobs]

    def get_user_delegation_key(self, expiry: datetime) -> Any:
        """A user-delegation key valid until at least ``expiry`` (naive means UTC), fetched once
        and reused; ``None`` without AZURE_TOKEN_CREDENTIAL, as upstream."""
        if self.token_credential is None:
            return None
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=timezone.utc)
        with translated(self, ""):
            return self._user_delegation_key(expiry)

    def _begin_replace(self, key: str, etag: str) -> Upload:
        """An upload that replaces the blob only if it still has ``etag`` (storages.core.update)."""
        from azure.core import MatchConditions

        return self._begin_upload(key, create_only=False, content_type=None,
                                  conditions={"etag": etag, "match_condition": MatchConditions.IfNotModified})
