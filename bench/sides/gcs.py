"""Google Cloud Storage: google-cloud-storage on fake-gcs-server."""

from __future__ import annotations

import os
from typing import Any

from .base import MB, Backend, Raw, overwrite_option


class GCS(Backend):
    name = emulator = "gcs"
    ours_class = upstream_class = "storages.backends.gcloud.GoogleCloudStorage"

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(**{**self.options, "bucket_name": f"cmp-{ns}", "emulator_host": endpoint,
                      **overwrite_option("file_overwrite", overwrite)})

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(project_id=self.options["project_id"], bucket_name=f"cmp-{ns}",
                   **overwrite_option("file_overwrite", overwrite))

    checks = True
    folder_listing = True
    raw_check_reasons = dict.fromkeys(
        ("save", "read"), "google-cloud-storage's plain route already does ours' check: "
        "checksum='auto' computes a CRC32C over every upload and download and compares it with the service's")

    def _point(self, storage: Any, endpoint: str) -> None:
        # What STORAGE_EMULATOR_HOST does for the client 1.14.6 creates, per storage instance.
        storage._client = _gcs_client(self.options["project_id"], endpoint)

    def raw(self, endpoint: str) -> Raw:
        return GCSRaw(_gcs_client(self.options["project_id"], endpoint))


def _gcs_client(project: str, endpoint: str) -> Any:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    return storage.Client(project=project, credentials=AnonymousCredentials(),
                          client_options={"api_endpoint": endpoint})


class GCSRaw(Raw):
    CHUNK = 8 * MB  # resumable chunks of our part size: the same memory bound

    def __init__(self, client: Any) -> None:
        self.client = client

    def _bucket(self, ns: str) -> Any:
        return self.client.bucket(f"cmp-{ns}")

    def create(self, ns: str) -> None:
        from google.api_core.exceptions import Conflict

        try:
            self.client.create_bucket(f"cmp-{ns}")
        except Conflict:
            pass

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        condition = {"if_generation_match": 0} if overwrite is False else {}
        self._bucket(ns).blob(name).upload_from_string(data, **condition)

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self._bucket(ns).blob(name, chunk_size=self.CHUNK).upload_from_file(
                source, size=os.path.getsize(path))

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        blob = self._bucket(ns).blob(name)
        if chunk is None:
            return len(blob.download_as_bytes(raw_download=True))
        from bench.common import Sink

        sink = Sink()
        blob.download_to_file(sink, raw_download=True)
        return sink.count

    def exists(self, ns: str, name: str) -> bool:
        return self._bucket(ns).blob(name).exists()

    def is_folder(self, ns: str, name: str) -> bool:
        blobs = self.client.list_blobs(f"cmp-{ns}", prefix=f"{name}/", max_results=1)
        return next(iter(blobs), None) is not None

    def size(self, ns: str, name: str) -> int:
        return self._bucket(ns).get_blob(name).size

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        blobs = self.client.list_blobs(f"cmp-{ns}", prefix=prefix, delimiter="/")
        files = [blob.name for blob in blobs]
        return sorted(blobs.prefixes), files

    def delete(self, ns: str, name: str) -> None:
        from google.api_core.exceptions import NotFound

        try:
            self._bucket(ns).blob(name).delete()
        except NotFound:
            pass
