"""The three sides bench/compare.py measures for each backend, on one emulator.

- ``ours``: this project's storage class (run from ``.venv``);
- ``upstream``: django-storages 1.14.6's class (run from ``.bench-venv-upstream``, where
  ``storages`` is that release), configured the way its documentation says;
- ``raw``: the service's SDK alone, by its best plain route (the ceiling a storage adds to).

Both Django sides are a :class:`DjangoSide` over a backend's factory; every raw side
implements the same primitives (:class:`Raw`). Objects live in namespaces: ``ns`` names
a bucket/container ``cmp-<ns>`` (S3, GCS, Azure, libcloud) or a root folder ``/cmp-<ns>``
(Dropbox, FTP, SFTP), made by the raw side's ``create(ns)``.

This module is imported in both interpreters, so anything from ``storages`` is imported
inside the functions that need it, and it imports nothing of ours at module level.
"""

from __future__ import annotations

import io
import os
from typing import Any, Callable

MB = 1024 * 1024
PAYLOAD = b"small file body " * 64  # the 1 KiB every small operation saves or reads
EMPTY_MANIFEST = b'{"paths": {}, "version": "1.1", "hash": ""}'
NO_OVERWRITE = "django-storages 1.14.6's {} has no overwrite setting (always a free name)"


class NotMeasurable(Exception):
    """A side cannot do an operation; the message says why."""


def _drain(stream: Any, chunk: int | None) -> int:
    """Read ``stream`` to the end (whole with ``chunk=None``, else in chunks); the byte count."""
    from bench.common import drain

    return len(stream.read()) if chunk is None else drain(stream, chunk)


def _import(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def manifest_class(cls: type) -> type:
    """``cls`` with Django's ManifestFilesMixin, as ``S3ManifestStaticStorage`` is built."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin

    return type(f"Manifest{cls.__name__}", (ManifestFilesMixin, cls), {})


# -- Django sides --------------------------------------------------------------------------------


class DjangoSide:
    """A Django storage side: ``make(ns, overwrite, endpoint, manifest)`` builds the storage;
    ``overwrite=None`` keeps the backend's default."""

    def __init__(self, make: Callable[..., Any], endpoint: str | None = None) -> None:
        self._make = make
        self._endpoint = endpoint
        self._storages: dict[tuple[str, bool | None, bool], Any] = {}

    def storage(self, ns: str, overwrite: bool | None = None, manifest: bool = False) -> Any:
        key = (ns, overwrite, manifest)
        if key not in self._storages:
            self._storages[key] = self._make(ns, overwrite, self._endpoint, manifest)
        return self._storages[key]

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        from django.core.files.base import ContentFile

        self.storage(ns, overwrite).save(name, ContentFile(data, name=name))

    def put_file(self, ns: str, name: str, path: str) -> None:
        from django.core.files.base import File

        with open(path, "rb") as source:
            self.storage(ns).save(name, File(source, name=name))

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        with self.storage(ns).open(name, "rb") as f:
            return _drain(f, chunk)

    def exists(self, ns: str, name: str) -> bool:
        return self.storage(ns).exists(name)

    def size(self, ns: str, name: str) -> int:
        return self.storage(ns).size(name)

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        return self.storage(ns).listdir(path)

    def delete(self, ns: str, name: str) -> None:
        self.storage(ns).delete(name)

    def collectstatic(self, ns: str) -> str | None:
        """Run collectstatic into ``ns``; a note when the manifest had to be seeded first."""
        from django.contrib.staticfiles.management.commands import collectstatic
        from django.core.files.base import ContentFile
        from django.core.management import call_command

        note = None
        try:
            storage = self.storage(ns, manifest=True)
        except Exception as exc:  # ManifestFilesMixin reads staticfiles.json in __init__
            note = (f"cannot start on an empty location: opening the missing staticfiles.json raised "
                    f"{type(exc).__name__}, not FileNotFoundError; timed with an empty manifest put "
                    "there first")
            self.storage(ns).save("staticfiles.json", ContentFile(EMPTY_MANIFEST))
            storage = self.storage(ns, manifest=True)
        command = collectstatic.Command()
        command.storage = storage
        call_command(command, interactive=False, verbosity=0)
        return note


class Raw:
    """The SDK alone. Subclasses implement the primitives; ``collectstatic`` has no raw form."""

    def create(self, ns: str) -> None:
        raise NotImplementedError

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        raise NotImplementedError

    def put_file(self, ns: str, name: str, path: str) -> None:
        raise NotImplementedError

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        raise NotImplementedError

    def exists(self, ns: str, name: str) -> bool:
        raise NotImplementedError

    def size(self, ns: str, name: str) -> int:
        raise NotImplementedError

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        raise NotImplementedError

    def delete(self, ns: str, name: str) -> None:
        raise NotImplementedError

    def collectstatic(self, ns: str) -> str | None:
        raise NotMeasurable("collectstatic is Django's; the SDK has no equivalent")

    #: Threads that may call ``put`` at once when filling a listing (1: the client is not thread-safe).
    fill_threads = 16


# -- backends --------------------------------------------------------------------------------------


class Backend:
    """One service: how each side is built against the emulator described by ``spec``
    (``bench.common.serve``'s description, plus ``spec["bench"]`` from bench/compare.py)."""

    name = ""
    emulator = ""  # the emulators CLI name serve() starts
    http = True  # requests can be counted by emulators.proxy.CountingProxy
    ours_class = ""
    upstream_class = ""
    #: A ready-made manifest static storage (both sides), else ManifestFilesMixin + the class.
    manifest_class_path: str | None = None
    #: Why 1.14.6 cannot save with overwriting on (None: it can).
    upstream_no_overwrite: str | None = None

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.options = spec["options"]

    def side(self, flavour: str, endpoint: str | None = None) -> Any:
        if flavour == "raw":
            return self.raw(endpoint or self.spec["endpoint"])
        build = self._ours if flavour == "ours" else self._upstream

        def make(ns: str, overwrite: bool | None, endpoint: str | None, manifest: bool) -> Any:
            if flavour == "upstream" and overwrite and self.upstream_no_overwrite:
                raise NotMeasurable(self.upstream_no_overwrite)
            path = self.ours_class if flavour == "ours" else self.upstream_class
            ready_manifest = manifest and self.manifest_class_path
            cls = _import(self.manifest_class_path if ready_manifest else path)
            endpoint = endpoint or self.spec["endpoint"]
            if flavour == "upstream":
                cls = self._pointed(cls, endpoint)
            if manifest and not ready_manifest:
                cls = manifest_class(cls)
            return build(cls, ns, overwrite, endpoint)

        return DjangoSide(make, endpoint)

    def _pointed(self, cls: type, endpoint: str) -> type:
        """1.14.6's class, pointed at the emulator where its settings cannot do it: the
        ``_point(storage, endpoint)`` hook runs at the end of ``__init__``, so before
        ManifestFilesMixin reads its manifest."""
        point = getattr(self, "_point", None)
        if point is None:
            return cls

        def __init__(storage: Any, *args: Any, **kwargs: Any) -> None:
            super(pointed, storage).__init__(*args, **kwargs)
            point(storage, endpoint)

        pointed = type(cls.__name__, (cls,), {"__init__": __init__, "__module__": cls.__module__})
        return pointed

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        raise NotImplementedError

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        raise NotImplementedError

    def raw(self, endpoint: str) -> Raw:
        raise NotImplementedError


def _overwrite(option: str, overwrite: bool | None) -> dict[str, Any]:
    return {} if overwrite is None else {option: overwrite}


class S3(Backend):
    name = emulator = "s3"
    ours_class = upstream_class = "storages.backends.s3.S3Storage"
    manifest_class_path = "storages.backends.s3.S3ManifestStaticStorage"

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(**{**self.options, "bucket_name": f"cmp-{ns}", "endpoint_url": endpoint,
                      **_overwrite("file_overwrite", overwrite)})

    _upstream = _ours  # 1.14.6 takes the same option names

    def raw(self, endpoint: str) -> Raw:
        return S3Raw(self.options, endpoint)


class S3Raw(Raw):
    def __init__(self, options: dict[str, Any], endpoint: str) -> None:
        from bench.bench_s3 import raw_client

        self.client = raw_client(options, endpoint)

    def create(self, ns: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.create_bucket(Bucket=f"cmp-{ns}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        self.client.put_object(Bucket=f"cmp-{ns}", Key=name, Body=data)

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self.client.upload_fileobj(source, f"cmp-{ns}", name)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        return _drain(self.client.get_object(Bucket=f"cmp-{ns}", Key=name)["Body"], chunk)

    def exists(self, ns: str, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=f"cmp-{ns}", Key=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def size(self, ns: str, name: str) -> int:
        return self.client.head_object(Bucket=f"cmp-{ns}", Key=name)["ContentLength"]

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        dirs: list[str] = []
        files: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=f"cmp-{ns}", Prefix=prefix, Delimiter="/"):
            dirs += [p["Prefix"] for p in page.get("CommonPrefixes", ())]
            files += [o["Key"] for o in page.get("Contents", ())]
        return dirs, files

    def delete(self, ns: str, name: str) -> None:
        self.client.delete_object(Bucket=f"cmp-{ns}", Key=name)


class GCS(Backend):
    name = emulator = "gcs"
    ours_class = upstream_class = "storages.backends.gcloud.GoogleCloudStorage"

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(**{**self.options, "bucket_name": f"cmp-{ns}", "emulator_host": endpoint,
                      **_overwrite("file_overwrite", overwrite)})

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(project_id=self.options["project_id"], bucket_name=f"cmp-{ns}",
                   **_overwrite("file_overwrite", overwrite))

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
        self._bucket(ns).blob(name).upload_from_string(data)

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


class Azure(Backend):
    name = emulator = "azure"
    ours_class = upstream_class = "storages.backends.azure_storage.AzureStorage"

    def _connection_string(self, endpoint: str) -> str:
        return self.options["connection_string"].replace(self.spec["endpoint"], endpoint)

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(**{**self.options, "connection_string": self._connection_string(endpoint),
                      "azure_container": f"cmp-{ns}", **_overwrite("file_overwrite", overwrite)})

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(connection_string=self._connection_string(endpoint), azure_container=f"cmp-{ns}",
                   **_overwrite("overwrite_files", overwrite))

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
        self._container(ns).upload_blob(name, data, overwrite=True)

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self._container(ns).upload_blob(name, source, length=os.path.getsize(path), overwrite=True,
                                            max_concurrency=2)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        if chunk is None:
            return len(self._container(ns).download_blob(name).readall())
        from bench.common import Sink

        return self._container(ns).download_blob(name, max_concurrency=1).readinto(Sink())

    def exists(self, ns: str, name: str) -> bool:
        return self._container(ns).get_blob_client(name).exists()

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


def redirected_session(endpoint: str) -> Any:
    """A ``requests`` session sending every ``https://<host>/path`` to ``endpoint`` + path: how the
    unmodified Dropbox SDK (hard-coded https hosts) reaches the fake's plain-HTTP port."""
    from urllib.parse import urlsplit

    import requests
    from requests.adapters import HTTPAdapter

    base = endpoint.rstrip("/")

    class Redirect(HTTPAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:
            url = urlsplit(request.url)
            request.url = base + url.path + (f"?{url.query}" if url.query else "")
            return super().send(request, **kwargs)

    session = requests.Session()
    session.mount("https://", Redirect(pool_maxsize=8))
    return session


class Dropbox(Backend):
    name = emulator = "dropbox"
    ours_class = "storages.backends.dropbox.DropboxStorage"
    upstream_class = "storages.backends.dropbox.DropboxStorage"

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(**{**self.options, "root_path": f"/cmp-{ns}", "api_endpoint": endpoint,
                      **_overwrite("file_overwrite", overwrite)})

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        mode = {} if overwrite is None else {"write_mode": "overwrite" if overwrite else "add"}
        return cls(oauth2_access_token=self.options["oauth2_access_token"], root_path=f"/cmp-{ns}", **mode)

    def _point(self, storage: Any, endpoint: str) -> None:
        storage.client._session = redirected_session(endpoint)  # 1.14.6 has no endpoint setting

    def raw(self, endpoint: str) -> Raw:
        import dropbox

        return DropboxRaw(dropbox.Dropbox(self.options["oauth2_access_token"],
                                          session=redirected_session(endpoint)))


class DropboxRaw(Raw):
    PART = 4 * MB  # the SDK's upload-session chunk, and our backend's part size

    def __init__(self, client: Any) -> None:
        self.client = client

    def create(self, ns: str) -> None:
        from dropbox.exceptions import ApiError

        try:
            self.client.files_create_folder_v2(f"/cmp-{ns}")
        except ApiError:
            pass  # exists

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        from dropbox.files import WriteMode

        self.client.files_upload(data, f"/cmp-{ns}/{name}", mode=WriteMode.overwrite)

    def put_file(self, ns: str, name: str, path: str) -> None:
        from dropbox.files import CommitInfo, UploadSessionCursor, WriteMode

        size = os.path.getsize(path)
        with open(path, "rb") as source:
            first = source.read(self.PART)
            cursor = UploadSessionCursor(self.client.files_upload_session_start(first).session_id, len(first))
            commit = CommitInfo(f"/cmp-{ns}/{name}", mode=WriteMode.overwrite)
            while True:
                data = source.read(self.PART)
                if cursor.offset + len(data) >= size:
                    self.client.files_upload_session_finish(data, cursor, commit)
                    return
                self.client.files_upload_session_append_v2(data, cursor)
                cursor.offset += len(data)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        _, response = self.client.files_download(f"/cmp-{ns}/{name}")
        with response:
            if chunk is None:
                return len(response.content)
            return sum(len(c) for c in response.iter_content(chunk))

    def exists(self, ns: str, name: str) -> bool:
        from dropbox.exceptions import ApiError

        try:
            self.client.files_get_metadata(f"/cmp-{ns}/{name}")
        except ApiError:
            return False
        return True

    def size(self, ns: str, name: str) -> int:
        return self.client.files_get_metadata(f"/cmp-{ns}/{name}").size

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        from dropbox.files import FolderMetadata

        folder = f"/cmp-{ns}/{path.strip('/')}".rstrip("/")
        result = self.client.files_list_folder(folder)
        entries = list(result.entries)
        while result.has_more:
            result = self.client.files_list_folder_continue(result.cursor)
            entries += result.entries
        dirs = [e.name for e in entries if isinstance(e, FolderMetadata)]
        return dirs, [e.name for e in entries if not isinstance(e, FolderMetadata)]

    def delete(self, ns: str, name: str) -> None:
        from dropbox.exceptions import ApiError

        try:
            self.client.files_delete_v2(f"/cmp-{ns}/{name}")
        except ApiError:
            pass

    fill_threads = 8


class FTP(Backend):
    name = emulator = "ftp"
    http = False
    ours_class = upstream_class = "storages.backends.ftp.FTPStorage"

    def _location(self, ns: str) -> str:
        return f"{self.options['location'].rstrip('/')}/cmp-{ns}/"

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(location=self._location(ns), **_overwrite("file_overwrite", overwrite))

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(location=self._location(ns), **_overwrite("allow_overwrite", overwrite))

    def raw(self, endpoint: str) -> Raw:
        return FTPRaw(self.options["location"])


class FTPRaw(Raw):
    fill_threads = 1  # one ftplib connection

    def __init__(self, location: str) -> None:
        from bench.bench_ftp import raw_client

        self.ftp = raw_client(location)

    def create(self, ns: str) -> None:
        import ftplib

        try:
            self.ftp.mkd(f"/cmp-{ns}")
        except ftplib.error_perm:
            pass  # exists

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        self.ftp.storbinary(f"STOR /cmp-{ns}/{name}", io.BytesIO(data))

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self.ftp.storbinary(f"STOR /cmp-{ns}/{name}", source, blocksize=MB)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        received = [0]

        def count(data: bytes) -> None:
            received[0] += len(data)

        self.ftp.retrbinary(f"RETR /cmp-{ns}/{name}", count, blocksize=chunk or 8192)
        return received[0]

    def exists(self, ns: str, name: str) -> bool:
        import ftplib

        try:
            self.ftp.size(f"/cmp-{ns}/{name}")
        except ftplib.error_perm:
            return False
        return True

    def size(self, ns: str, name: str) -> int:
        return self.ftp.size(f"/cmp-{ns}/{name}")

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        entries = list(self.ftp.mlsd(f"/cmp-{ns}/{path.strip('/')}".rstrip("/"), facts=["type"]))
        dirs = [n for n, facts in entries if facts.get("type") == "dir"]
        return dirs, [n for n, facts in entries if facts.get("type") == "file"]

    def delete(self, ns: str, name: str) -> None:
        import ftplib

        try:
            self.ftp.delete(f"/cmp-{ns}/{name}")
        except ftplib.error_perm:
            pass


class SFTP(Backend):
    name = emulator = "sftp"
    http = False
    ours_class = upstream_class = "storages.backends.sftpstorage.SFTPStorage"
    upstream_no_overwrite = NO_OVERWRITE.format("SFTPStorage")

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(**{**self.options, "params": dict(self.options["params"]), "location": f"/cmp-{ns}/",
                      **_overwrite("file_overwrite", overwrite)})

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(host=self.options["host"], params=dict(self.options["params"]),
                   known_host_file=self.options["known_host_file"], root_path=f"/cmp-{ns}/")

    def raw(self, endpoint: str) -> Raw:
        return SFTPRaw(self.options)


class SFTPRaw(Raw):
    fill_threads = 1

    def __init__(self, options: dict[str, Any]) -> None:
        from bench.bench_sftp import raw_client

        self.sftp = raw_client(options)

    def create(self, ns: str) -> None:
        try:
            self.sftp.mkdir(f"/cmp-{ns}")
        except OSError:
            pass  # exists

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        self.sftp.putfo(io.BytesIO(data), f"/cmp-{ns}/{name}", confirm=False)

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self.sftp.putfo(source, f"/cmp-{ns}/{name}", confirm=False)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        from bench.common import Sink

        sink = Sink()
        self.sftp.getfo(f"/cmp-{ns}/{name}", sink)
        return sink.count

    def exists(self, ns: str, name: str) -> bool:
        try:
            self.sftp.stat(f"/cmp-{ns}/{name}")
        except FileNotFoundError:
            return False
        return True

    def size(self, ns: str, name: str) -> int:
        return self.sftp.stat(f"/cmp-{ns}/{name}").st_size

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        import stat

        entries = self.sftp.listdir_attr(f"/cmp-{ns}/{path.strip('/')}".rstrip("/"))
        dirs = [e.filename for e in entries if stat.S_ISDIR(e.st_mode or 0)]
        return dirs, [e.filename for e in entries if not stat.S_ISDIR(e.st_mode or 0)]

    def delete(self, ns: str, name: str) -> None:
        try:
            self.sftp.remove(f"/cmp-{ns}/{name}")
        except FileNotFoundError:
            pass


class Libcloud(Backend):
    """libcloud's S3 driver on the S3 emulator (moto)."""

    name = "libcloud"
    emulator = "s3"
    ours_class = upstream_class = "storages.backends.apache_libcloud.LibCloudStorage"
    upstream_no_overwrite = NO_OVERWRITE.format("LibCloudStorage")

    def _hostport(self, endpoint: str) -> tuple[str, int]:
        from urllib.parse import urlsplit

        parts = urlsplit(endpoint)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        host, port = self._hostport(endpoint)
        provider = {"type": "libcloud.storage.types.Provider.S3", "key": self.options["access_key"],
                    "secret": self.options["secret_key"], "bucket": f"cmp-{ns}", "host": host, "port": port,
                    "secure": False, "region": self.options["region_name"]}
        return cls(provider_name="bench", providers={"bench": provider},
                   **_overwrite("file_overwrite", overwrite))

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        from django.conf import settings

        # 1.14.6 reads LIBCLOUD_PROVIDERS and passes only user, key, region and project to the
        # driver: the emulator's host and port come from a registered driver class.
        name = f"bench-{ns}-{len(settings.LIBCLOUD_PROVIDERS)}"
        settings.LIBCLOUD_PROVIDERS[name] = {
            "type": _emulator_s3_driver(*self._hostport(endpoint)), "user": self.options["access_key"],
            "key": self.options["secret_key"], "bucket": f"cmp-{ns}", "region": self.options["region_name"]}
        return cls(provider_name=name)

    def raw(self, endpoint: str) -> Raw:
        from libcloud.storage.drivers.s3 import S3StorageDriver

        host, port = self._hostport(endpoint)
        return LibcloudRaw(S3StorageDriver(self.options["access_key"], self.options["secret_key"],
                                           secure=False, host=host, port=port,
                                           region=self.options["region_name"]))


def _emulator_s3_driver(host: str, port: int) -> tuple[str, str, int]:
    """Register (once) libcloud's S3 driver fixed to ``host:port``; the provider key to use.
    The key is a tuple, so 1.14.6 hands it to ``get_driver`` as is."""
    import sys
    import types

    from libcloud.storage.drivers.s3 import S3StorageDriver
    from libcloud.storage.providers import DRIVERS

    key = ("bench-emulator-s3", host, port)
    if key not in DRIVERS:
        class EmulatorS3Driver(S3StorageDriver):
            def __init__(self, user: str, secret: str | None = None, **kwargs: Any) -> None:
                super().__init__(user, secret, secure=False, host=host, port=port, **kwargs)

        module = types.ModuleType(f"bench_emulator_s3_{port}")
        module.EmulatorS3Driver = EmulatorS3Driver  # type: ignore[attr-defined]
        sys.modules[module.__name__] = module
        DRIVERS[key] = (module.__name__, "EmulatorS3Driver")
    return key


class LibcloudRaw(Raw):
    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def _container(self, ns: str) -> Any:
        from libcloud.storage.base import Container

        return Container(f"cmp-{ns}", {}, self.driver)

    def _object(self, ns: str, name: str) -> Any:
        from libcloud.storage.base import Object

        return Object(name, None, None, {}, {}, self._container(ns), self.driver)

    def create(self, ns: str) -> None:
        from libcloud.storage.types import ContainerAlreadyExistsError

        try:
            self.driver.create_container(f"cmp-{ns}")
        except ContainerAlreadyExistsError:
            pass

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        self.driver.upload_object_via_stream(iter([data]), self._container(ns), name)

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            chunks = iter(lambda: source.read(MB), b"")
            self.driver.upload_object_via_stream(chunks, self._container(ns), name)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        # An Object built locally: one GET, no HEAD first (the driver's cheapest read).
        return sum(len(c) for c in self.driver.download_object_as_stream(self._object(ns, name),
                                                                         chunk_size=chunk or MB))

    def _head(self, ns: str, name: str) -> Any:
        """The object's metadata in one HEAD. (The S3 driver's ``get_object`` first HEADs the
        bucket, through ``get_container``: two requests.)"""
        container = self._container(ns)
        path = self.driver._get_object_path(container, name)
        response = self.driver.connection.request(path, method="HEAD")
        if response.status != 200:
            return None
        return self.driver._headers_to_object(object_name=name, container=container, headers=response.headers)

    def exists(self, ns: str, name: str) -> bool:
        return self._head(ns, name) is not None

    def size(self, ns: str, name: str) -> int:
        return self._head(ns, name).size

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        prefix = f"{path.strip('/')}/" if path.strip("/") else None
        # The S3 driver lists without a delimiter: every key under the prefix.
        return [], [o.name for o in self.driver.iterate_container_objects(self._container(ns), prefix=prefix)]

    def delete(self, ns: str, name: str) -> None:
        from libcloud.storage.types import ObjectDoesNotExistError

        try:
            self.driver.delete_object(self._object(ns, name))
        except ObjectDoesNotExistError:
            pass


BACKENDS: dict[str, type[Backend]] = {cls.name: cls for cls in (S3, GCS, Azure, Dropbox, FTP, SFTP, Libcloud)}
