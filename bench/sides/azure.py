"""Azure Blob Storage: azure-storage-blob on Azurite."""

from __future__ import annotations

import os
from typing import Any

from .base import Backend, Raw, hash_all, overwrite_option


class Azure(Backend):
    name = emulator = "azure"
    ours_class = upstream_class = "storages.backends.azure_storage.AzureStorage"

    def _connection_string(self, endpoint: str) -> str:
        return self.options["connection_string"].replace(self.spec["endpoint"], endpoint)

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(**{**self.options, "connection_string": self._connection_string(endpoint),
                      "azure_container": f"cmp-{ns}", **overwrite_option("file_overwrite", overwrite)})

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(connection_string=self._connection_string(endpoint), azure_container=f"cmp-{ns}",
                   **overwrite_option("overwrite_files", overwrite))

    checks = True
    folder_listing = True

    def raw(self, endpoint: str) -> Raw:
        return AzureRaw(self._connection_string(endpoint))


class AzureRaw(Raw):
    def __init__(self, connection_string: str) -> None:
        from azure.storage.blob import BlobServiceClient

        self.service = BlobServiceClient.from_connection_string(connection_string)

    def _container(self, ns: str) -> Any:
        return self.service.get_container_client(f"cmp-{ns}")

    def create(self, ns: str) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            self._container(ns).create_container()
        except ResourceExistsError:
            pass

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        self._container(ns).upload_blob(name, data, overwrite=overwrite is not False)

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self._container(ns).upload_blob(name, source, length=os.path.getsize(path), overwrite=True,
                                            max_concurrency=2)

    def checked(self) -> Raw:
        return AzureChecked(self.service)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        if chunk is None:
            return len(self._container(ns).download_blob(name).readall())
        from bench.common import Sink

        return self._container(ns).download_blob(name, max_concurrency=1).readinto(Sink())

    def exists(self, ns: str, name: str) -> bool:
        return self._container(ns).get_blob_client(name).exists()

    def is_folder(self, ns: str, name: str) -> bool:
        blobs = self._container(ns).list_blobs(name_starts_with=f"{name}/", results_per_page=1)
        return next(iter(blobs), None) is not None

    def size(self, ns: str, name: str) -> int:
        return self._container(ns).get_blob_client(name).get_blob_properties().size

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        from azure.storage.blob import BlobPrefix

        prefix = f"{path.strip('/')}/" if path.strip("/") else None
        dirs: list[str] = []
        files: list[str] = []
        for item in self._container(ns).walk_blobs(name_starts_with=prefix, delimiter="/"):
            (dirs if isinstance(item, BlobPrefix) else files).append(item.name)
        return dirs, files

    def delete(self, ns: str, name: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self._container(ns).delete_blob(name)
        except ResourceNotFoundError:
            pass


class AzureChecked(AzureRaw):
    """Ours' checks: on a save the SDK's Content-MD5 of every block (``validate_content``); on
    a read, an MD5 of the bytes as they arrive against the blob's Content-MD5 where it has one
    (Azure stores one for a Put Blob, none for a blob committed from blocks: ours then reads
    unchecked too)."""

    def __init__(self, service: Any) -> None:
        self.service = service

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self._container(ns).upload_blob(name, source, length=os.path.getsize(path), overwrite=True,
                                            max_concurrency=2, validate_content=True)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        import hashlib

        download = self._container(ns).download_blob(name, max_concurrency=1)
        expected = download.properties.content_settings.content_md5
        if not expected:
            from bench.common import Sink

            return download.readinto(Sink())
        hashed = hashlib.md5()
        count = hash_all(download.chunks(), hashed)
        if hashed.digest() != bytes(expected):
            raise AssertionError(f"Content-MD5 mismatch reading {name}")
        return count
