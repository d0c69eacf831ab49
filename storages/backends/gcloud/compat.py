"""Upstream's (django-storages 1.14) names in ``storages.backends.gcloud``: :class:`GoogleCloudFile`
(what ``open()`` returns) and the blob-property constants."""

from __future__ import annotations

import mimetypes
from typing import Any

from storages.core.compat import BackendFile

CONTENT_ENCODING = "content_encoding"
CONTENT_TYPE = "content_type"


class GoogleCloudFile(BackendFile):
    """What ``GoogleCloudStorage.open()`` returns (upstream's ``GoogleCloudFile``).

    ``blob`` is the object's ``google.cloud.storage.Blob`` with its metadata (one request,
    on first use; a new, unsaved Blob if there is no object yet)."""

    @property
    def mime_type(self) -> str | None:
        return mimetypes.guess_type(self.name)[0]

    @property
    def mime_encoding(self) -> str | None:
        return mimetypes.guess_type(self.name)[1]

    @property
    def blob(self) -> Any:
        blob = self.__dict__.get("_blob")
        if blob is None:
            bucket = self._storage.bucket
            blob = self._blob = bucket.get_blob(self._key) or bucket.blob(self._key)
        return blob
