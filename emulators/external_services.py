"""The external route's services (see emulators/external.py): each is the native
emulator class configured from environment variables, making and deleting namespaces
of its run through the service's own SDK or protocol."""

from __future__ import annotations

import ftplib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote, urlsplit

from .azure import AzureEmulator
from .dropbox import DropboxEmulator
from .external import ExternalService
from .ftp import FTPEmulator
from .gcs import GCSEmulator, service_account_info
from .modes import native_only
from .s3 import S3Emulator
from .sftp import SFTPEmulator


class ExternalS3(ExternalService, S3Emulator):
    """S3 or an S3-compatible service: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional
    AWS_SESSION_TOKEN, AWS_DEFAULT_REGION (us-east-1) and AWS_ENDPOINT_URL_S3 (none: AWS)."""

    def __init__(self, live: bool = False) -> None:
        super().__init__()
        self._external_setup(live)
        self._endpoint: str | None = None
        self.region = "us-east-1"

    def start(self) -> None:
        creds = self.require("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        self.access_key, self.secret_key = creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"]
        self.session_token = os.environ.get("AWS_SESSION_TOKEN")
        self.region = os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or None
        parts = urlsplit(self._endpoint or f"https://s3.{self.region}.amazonaws.com")
        self.host, self.port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        self.gate(self.host, self.port, parts.netloc)
        self.started = True

    @property
    def endpoint(self) -> str:
        return self._endpoint or f"https://s3.{self.region}.amazonaws.com"

    def health(self) -> bool:
        try:
            self.client().list_buckets()
            return True
        except Exception:
            return False

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self._endpoint, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, aws_session_token=self.session_token,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path" if self._endpoint else "auto"}))

    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"access_key": self.access_key, "secret_key": self.secret_key,
                                   "region_name": self.region}
        if self.session_token:
            options["session_token"] = self.session_token
        if self._endpoint:
            options.update(endpoint_url=self._endpoint, addressing_style="path")
        options.update(overrides)
        return options

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        bucket = self.next_name()
        config = {} if self.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": self.region}}
        self.client().create_bucket(Bucket=bucket, **config)
        self.created.append(bucket)
        return self.storage_options(bucket_name=bucket, **overrides)

    def delete_namespace(self, bucket: str) -> None:
        client = self.client()
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            for upload in page.get("Uploads", []):
                client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        for _ in range(100_000):  # a page at a time until nothing is left (versions and markers too)
            page = client.list_object_versions(Bucket=bucket)
            objects = [{"Key": o["Key"], "VersionId": o["VersionId"]}
                       for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
            if not objects:
                break
            client.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        client.delete_bucket(Bucket=bucket)


class ExternalGCS(ExternalService, GCSEmulator):
    """GCS (GOOGLE_APPLICATION_CREDENTIALS) or an emulator (STORAGE_EMULATOR_HOST); both
    need GOOGLE_CLOUD_PROJECT."""

    def __init__(self, live: bool = False) -> None:
        super().__init__()
        self._external_setup(live)
        self._emulator_host: str | None = None
        self.program = "external"

    def start(self) -> None:
        self.project = self.require("GOOGLE_CLOUD_PROJECT")["GOOGLE_CLOUD_PROJECT"]
        self._emulator_host = os.environ.get("STORAGE_EMULATOR_HOST") or None
        if self._emulator_host:
            if "://" not in self._emulator_host:
                self._emulator_host = "http://" + self._emulator_host
            parts = urlsplit(self._emulator_host)
            self.host, self.port = parts.hostname or "", parts.port or 80
            self.gate(self.host, self.port, parts.netloc)
            # The emulator checks no signature: sign URLs with a throwaway key, as the native route does.
            self._workdir = Path(tempfile.mkdtemp(prefix="storages-gcs-external-"))
            self.key_file = self._workdir / "service-account.json"
            import json

            self.key_file.write_text(json.dumps(service_account_info()))
        else:
            self.require("GOOGLE_APPLICATION_CREDENTIALS")
            self.gate("storage.googleapis.com", 443, "storage.googleapis.com")
            self.key_file = Path(os.environ["GOOGLE_APPLICATION_CREDENTIALS"])
        self.started = True

    @property
    def endpoint(self) -> str:
        return self._emulator_host or "https://storage.googleapis.com"

    def health(self) -> bool:
        return self.started

    def client(self) -> Any:
        from google.cloud import storage

        if self._emulator_host:
            from google.auth.credentials import AnonymousCredentials

            return storage.Client(project=self.project, credentials=AnonymousCredentials(),
                                  client_options={"api_endpoint": self._emulator_host})
        return storage.Client(project=self.project)

    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"project_id": self.project, "credentials": str(self.key_file)}
        if self._emulator_host:
            options["emulator_host"] = self._emulator_host
        options.update(overrides)
        return options

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        bucket = self.next_name()
        self.client().create_bucket(bucket)
        self.created.append(bucket)
        return self.storage_options(bucket_name=bucket, **overrides)

    def delete_namespace(self, bucket: str) -> None:
        handle = self.client().bucket(bucket)
        for blob in handle.list_blobs():
            blob.delete()
        handle.delete()

    def stop(self, **_: Any) -> None:
        try:
            super().stop()
        finally:
            if self._emulator_host and self._workdir is not None:
                shutil.rmtree(self._workdir, ignore_errors=True)
                self._workdir = None


class ExternalAzure(ExternalService, AzureEmulator):
    """Azure Blob Storage or Azurite: AZURE_STORAGE_CONNECTION_STRING."""

    namespace_kind = "containers"

    def __init__(self, live: bool = False) -> None:
        super().__init__()
        self._external_setup(live)
        self._connection_string = ""

    def start(self) -> None:
        variable = "AZURE_STORAGE_CONNECTION_STRING"
        self._connection_string = self.require(variable)[variable]
        fields = dict(part.split("=", 1) for part in self._connection_string.split(";") if "=" in part)
        self.account_name = fields.get("AccountName", "")
        self.account_key = fields.get("AccountKey", "")
        blob = fields.get("BlobEndpoint") or (
            f"{fields.get('DefaultEndpointsProtocol', 'https')}://{self.account_name}.blob."
            f"{fields.get('EndpointSuffix', 'core.windows.net')}")
        parts = urlsplit(blob)
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname or "", parts.port or (443 if self.https else 80)
        self.gate(self.host, self.port, parts.netloc)
        self._blob_endpoint = blob.rstrip("/")
        self.started = True

    @property
    def connection_string(self) -> str:
        return self._connection_string

    @property
    def blob_endpoint(self) -> str:
        return self._blob_endpoint

    def health(self) -> bool:
        return self.started

    def new_container(self, public_access: str | None = None) -> str:
        name = self.next_name()
        self._create_container(name, public_access)
        self.created.append(name)
        return name

    def delete_namespace(self, container: str) -> None:
        self.service_client().delete_container(container)


class ExternalDropbox(ExternalService, DropboxEmulator):
    """Dropbox or this project's fake: DROPBOX_OAUTH2_TOKEN, DROPBOX_API_ENDPOINT (none:
    Dropbox), STORAGES_DROPBOX_ROOT (folder the run works under; default /storages-tests)."""

    namespace_kind = "folders"
    store = native_only("an external service's store is not reachable")

    def __init__(self, live: bool = False) -> None:
        super().__init__(tls=False)
        self._external_setup(live)
        self._endpoint: str | None = None
        self.root = "/storages-tests"

    def start(self) -> None:
        self.token = self.require("DROPBOX_OAUTH2_TOKEN")["DROPBOX_OAUTH2_TOKEN"]
        self._endpoint = os.environ.get("DROPBOX_API_ENDPOINT") or None
        self.root = "/" + (os.environ.get("STORAGES_DROPBOX_ROOT") or "storages-tests").strip("/")
        parts = urlsplit(self._endpoint or "https://api.dropboxapi.com")
        self.host, self.port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        self.gate(self.host, self.port, parts.netloc)
        self.started = True

    @property
    def endpoint(self) -> str:
        return self._endpoint or "https://api.dropboxapi.com"

    def health(self) -> bool:
        return self.started

    def client(self, **kwargs: Any) -> Any:
        import dropbox

        kwargs.setdefault("oauth2_access_token", self.token)
        if self._endpoint:
            from storages.backends.dropbox import endpoint_session

            kwargs["session"] = endpoint_session(self._endpoint)
        return dropbox.Dropbox(**kwargs)

    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"oauth2_access_token": self.token, "root_path": self.root}
        if self._endpoint:
            options["api_endpoint"] = self._endpoint
        options.update(overrides)
        return options

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        return self.storage_options(**{"root_path": self.next_folder(self.root), **overrides})

    def delete_namespace(self, folder: str) -> None:
        import dropbox

        client = self.client()
        try:
            client.files_delete_v2(folder)
        except dropbox.exceptions.ApiError as exc:
            if "not_found" not in str(exc.error):
                raise
        finally:
            client.close()


class ExternalFTP(ExternalService, FTPEmulator):
    """An FTP/FTPS server: FTP_STORAGE_LOCATION (``ftp[s]://user:password@host:port/base``)."""

    namespace_kind = "folders"

    def __init__(self, live: bool = False) -> None:
        super().__init__()
        self._external_setup(live)
        self.base = ""
        self.scheme = "ftp"

    def start(self) -> None:
        location = self.require("FTP_STORAGE_LOCATION")["FTP_STORAGE_LOCATION"]
        parts = urlsplit(location)
        self.scheme, self.tls = parts.scheme, parts.scheme == "ftps"
        self.host, self.port = parts.hostname or "", parts.port or 21
        self.gate(self.host, self.port, f"{self.host}:{self.port}")
        self.user, self.password = unquote(parts.username or "anonymous"), unquote(parts.password or "")
        self.base = parts.path.rstrip("/")
        self.started = True

    def ssl_context(self) -> Any:
        import ssl

        return ssl.create_default_context()

    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        return {"location": self.location(self.base + "/", scheme=self.scheme), **overrides}

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        return {"location": self.location(self.next_folder(self.base), scheme=self.scheme), **overrides}

    def delete_namespace(self, folder: str) -> None:
        ftp = self.client()
        try:
            _ftp_rmtree(ftp, folder)
        finally:
            ftp.close()


def _ftp_rmtree(ftp: ftplib.FTP, path: str) -> None:
    try:
        entries = [(name, facts.get("type", "")) for name, facts in ftp.mlsd(path, facts=["type"])]
    except ftplib.error_perm as exc:
        if str(exc).startswith("550"):
            return  # nothing there
        entries = [(name.rsplit("/", 1)[-1], "") for name in ftp.nlst(path)]  # a server without MLSD
    for name, kind in entries:
        if name in (".", "..") or kind in ("cdir", "pdir"):
            continue
        child = f"{path}/{name}"
        if kind == "dir" or (not kind and _ftp_is_dir(ftp, child)):
            _ftp_rmtree(ftp, child)
        else:
            ftp.delete(child)
    ftp.rmd(path)


def _ftp_is_dir(ftp: ftplib.FTP, path: str) -> bool:
    current = ftp.pwd()
    try:
        ftp.cwd(path)
        return True
    except ftplib.error_perm:
        return False
    finally:
        ftp.cwd(current)


class ExternalSFTP(ExternalService, SFTPEmulator):
    """An SFTP server: SFTP_HOST, SFTP_PORT (22), SFTP_USERNAME, SFTP_PASSWORD or SFTP_KEY_FILE,
    SFTP_KNOWN_HOSTS (its host key: required, nothing is trusted on first use) and SFTP_ROOT
    (the folder the run works under; default /)."""

    namespace_kind = "folders"
    hooks = native_only("fault hooks run in the emulator's process")

    def __init__(self, live: bool = False) -> None:
        super().__init__()
        self._external_setup(live)
        self.root = ""

    def start(self) -> None:
        env = self.require("SFTP_HOST", "SFTP_USERNAME", "SFTP_KNOWN_HOSTS")
        self.host, self.username = env["SFTP_HOST"], env["SFTP_USERNAME"]
        self.port = int(os.environ.get("SFTP_PORT") or 22)
        self.known_hosts = Path(env["SFTP_KNOWN_HOSTS"])
        self.password = os.environ.get("SFTP_PASSWORD") or ""
        key = os.environ.get("SFTP_KEY_FILE")
        self.client_key_file = Path(key) if key else None
        if not self.password and not key:
            self.require("SFTP_PASSWORD")  # says what is missing
        self.root = "/" + (os.environ.get("SFTP_ROOT") or "").strip("/")
        self.gate(self.host, self.port, f"{self.host}:{self.port}")
        self.started = True

    def connect_params(self, *, key: bool = False, **overrides: Any) -> dict[str, Any]:
        return super().connect_params(key=key or not self.password, **overrides)

    def storage_options(self, *, key: bool = False, **overrides: Any) -> dict[str, Any]:
        return super().storage_options(key=key, **{"location": self.root, **overrides})

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        return self.storage_options(**{"location": self.next_folder(self.root) + "/", **overrides})

    def delete_namespace(self, folder: str) -> None:
        sftp = self.client()
        try:
            _sftp_rmtree(sftp, folder)
        finally:
            sftp.close()
            sftp._ssh_client.close()


def _sftp_rmtree(sftp: Any, path: str) -> None:
    try:
        entries = sftp.listdir_attr(path)
    except FileNotFoundError:
        return
    for entry in entries:
        child = f"{path}/{entry.filename}"
        if stat.S_ISDIR(entry.st_mode or 0):
            _sftp_rmtree(sftp, child)
        else:
            sftp.remove(child)
    sftp.rmdir(path)


EXTERNAL: dict[str, Callable[[bool], Any]] = {
    "s3": ExternalS3, "gcs": ExternalGCS, "azure": ExternalAzure,
    "dropbox": ExternalDropbox, "ftp": ExternalFTP, "sftp": ExternalSFTP,
}
