"""Azure Blob Storage on azure-storage-blob v12: ``AzureStorage``.

Writes stage blocks as the file is written and commit the block list on close
(a small file is one Put Blob; see ``transfer``); reads are ranged, streamed downloads. With
overwriting off, the commit carries ``If-None-Match: *`` so a save can never
replace a blob, even under a race. Each block (and a small file's Put Blob) carries
its Content-MD5, which Azure checks; reads are checked against the blob's Content-MD5 or
the CRC32 a commit stores (``transfer``).
"""

from __future__ import annotations

import mimetypes
import re
import threading
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation

from storages.core import (
    BaseStorage,
    ChecksumMismatch,
    ObjectInfo,
    Option,
    ServiceUnavailable,
    StorageError,
    Upload,
    require,
    split_listing,
    to_bool,
    to_int,
    translated,
)
from storages.core.direct import DirectUpload, UploadRequest
from storages.core.keyed import KeyedObjectParameters

from . import params as object_params
from .compat import AzureCompat, AzureStorageFile
from .transfer import BlockUpload, Download, can_stream, stored_checksums, streamed_download

#: Keyword arguments of ``azure.storage.blob.ContentSettings`` (AZURE_OBJECT_PARAMETERS keys).
CONTENT_SETTINGS = ("content_type", "content_encoding", "content_language", "content_disposition",
                    "cache_control", "content_md5")
#: Longest user-delegation key Azure issues.
MAX_DELEGATION = timedelta(days=7)
MAX_BLOB_NAME = 1024


def _blob() -> Any:
    return require("azure.storage.blob", AzureStorage.sdk_extra)


class AzureStorage(KeyedObjectParameters, AzureCompat, BaseStorage):
    """Files in an Azure Blob Storage container (which must already exist)."""

    options = (
        Option("account_name", ("AZURE_ACCOUNT_NAME",)),
        Option("account_key", ("AZURE_ACCOUNT_KEY",), secret=True),
        Option("azure_container", ("AZURE_CONTAINER",)),
        Option("connection_string", ("AZURE_CONNECTION_STRING",), secret=True),
        Option("token_credential", ("AZURE_TOKEN_CREDENTIAL",), secret=True),
        Option("sas_token", ("AZURE_SAS_TOKEN",), secret=True),
        Option("custom_domain", ("AZURE_CUSTOM_DOMAIN",)),
        Option("azure_ssl", ("AZURE_SSL",), True, convert=to_bool),
        Option("endpoint_suffix", ("AZURE_ENDPOINT_SUFFIX",), "core.windows.net"),
        Option("expiration_secs", ("AZURE_URL_EXPIRATION_SECS",), None, convert=to_int),
        Option("file_overwrite", ("AZURE_OVERWRITE_FILES",), False, aliases=("overwrite_files",),
               convert=to_bool),
        Option("location", ("AZURE_LOCATION",), ""),
        Option("cache_control", ("AZURE_CACHE_CONTROL",)),
        Option("object_parameters", ("AZURE_OBJECT_PARAMETERS",), dict),
        Option("upload_max_conn", ("AZURE_UPLOAD_MAX_CONN",), 2, convert=to_int),
        Option("timeout", ("AZURE_CONNECTION_TIMEOUT_SECS",), 20, convert=to_int),
        # 4 MiB, the SDK's block size (upstream's 2 MiB was a spooling threshold): see docs/azure.md
        Option("max_memory_size", ("AZURE_BLOB_MAX_MEMORY_SIZE",), 4 * 1024 * 1024, convert=to_int),
        Option("client_options", ("AZURE_CLIENT_OPTIONS",), dict),
        Option("api_version", ("AZURE_API_VERSION",)),
        Option("default_content_type", (), "application/octet-stream"),
    )
    unsupported = {
        "accessed_time": "Azure reports a blob's last access time only when the account's "
                         "access-time tracking policy is on, and Azurite does not implement it",
        "direct_upload_limits": "an Azure SAS grants writing one blob until it expires; it cannot cap the "
                                "size or fix the content type of what is written",
    }
    #: Blobs per listing page (None: the service's default, 5000).
    list_page_size: int | None = None
    sdk_modules, sdk_extra = ("azure.storage.blob",), "azure"
    key_rules = object_params  # customer keys in object_parameters: secrets
    container_option, container_kind = "azure_container", "container"
    file_class = AzureStorageFile

    def _options_changed(self) -> None:
        super()._options_changed()
        self.location = (self.location or "").strip("/")
        for option, minimum in (("upload_max_conn", 1), ("timeout", 1), ("max_memory_size", 1)):
            value = getattr(self, option)
            if value is None or value < minimum:
                setting = next(o.settings[0] for o in self.options if o.name == option)
                raise ImproperlyConfigured(f"{setting} must be a positive integer, got {value!r}")
        for option in ("object_parameters", "client_options"):
            if not isinstance(getattr(self, option), dict):
                raise ImproperlyConfigured(f"AZURE_{option.upper()} must be a dict, got "
                                           f"{type(getattr(self, option)).__name__}")
        unknown = sorted(set(self.object_parameters) - set(CONTENT_SETTINGS) - set(object_params.EXTRA))
        if unknown:
            raise ImproperlyConfigured(f"AZURE_OBJECT_PARAMETERS has unknown key(s) {', '.join(unknown)}; "
                                       f"valid keys: {', '.join((*CONTENT_SETTINGS, *object_params.EXTRA))}")
        if self.custom_domain and ("://" in self.custom_domain or self.custom_domain.startswith("/")):
            raise ImproperlyConfigured("AZURE_CUSTOM_DOMAIN is a host name (and optional path), "
                                       "without a scheme, e.g. 'cdn.example.com'")
        # A writing file holds one block in memory per upload connection (plus the one being filled).
        self.part_size = self.max_memory_size
        self._delegation_lock = threading.Lock()
        self._delegation: tuple[Any, datetime] | None = None

    # -- client ----------------------------------------------------------------
    @property
    def container(self) -> str:
        return self.container_name()

    @property
    def azure_protocol(self) -> str:
        return "https" if self.azure_ssl else "http"

    def _account_url(self) -> str:
        """The blob service URL (from the connection string when one is set); no secrets."""
        if self.connection_string:
            parts = dict(p.split("=", 1) for p in self.connection_string.split(";") if "=" in p)
            if parts.get("BlobEndpoint"):
                return parts["BlobEndpoint"].rstrip("/")
            protocol = parts.get("DefaultEndpointsProtocol", "https")
            suffix = parts.get("EndpointSuffix", "core.windows.net")
            return f"{protocol}://{parts.get('AccountName', '?')}.blob.{suffix}"
        if not self.account_name:
            raise ImproperlyConfigured(
                f"{type(self).__name__} needs an account: set AZURE_ACCOUNT_NAME (with AZURE_ACCOUNT_KEY, "
                "AZURE_SAS_TOKEN or AZURE_TOKEN_CREDENTIAL) or AZURE_CONNECTION_STRING")
        return f"{self.azure_protocol}://{self.account_name}.blob.{self.endpoint_suffix}"

    def endpoint(self) -> str:
        try:
            return f"{self._account_url()}/{self.azure_container or ''}"
        except ImproperlyConfigured:
            return "Azure Blob Storage (no account configured)"

    def _client_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "connection_timeout": self.timeout,
            "max_single_get_size": self.max_memory_size,
            "max_chunk_get_size": self.max_memory_size,
            # the blocks a streamed read arrives in (transfer.streamed_download)
            "connection_data_block_size": min(self.max_memory_size, 256 * 1024),
            "max_single_put_size": max(self.part_size, 64 * 1024 * 1024),
            "max_block_size": self.part_size,
        }
        if self.api_version:
            kwargs["api_version"] = self.api_version
        kwargs.update(self.client_options)
        return kwargs

    def _make_service_client(self) -> Any:
        blob = _blob()
        try:
            if self.connection_string:
                return blob.BlobServiceClient.from_connection_string(
                    self.connection_string, credential=self.token_credential, **self._client_kwargs())
            credential: Any = None
            if self.account_key:
                credential = {"account_name": self.account_name, "account_key": self.account_key}
            elif self.sas_token:
                credential = self.sas_token
            elif self.token_credential is not None:
                credential = self.token_credential
            return blob.BlobServiceClient(self._account_url(), credential=credential, **self._client_kwargs())
        except ValueError as exc:  # the SDK's messages about bad configuration never echo secrets
            setting = "AZURE_CONNECTION_STRING" if self.connection_string else "the Azure settings"
            raise ImproperlyConfigured(f"{setting} cannot be used for {self.endpoint()}: "
                                       f"{self.redact(str(exc))}") from None

    def _service(self) -> Any:
        return self._per_thread("service", self._make_service_client)

    def _container(self) -> Any:
        return self._per_thread("container", lambda: self._service().get_container_client(self.container))

    @property
    def service_client(self) -> Any:
        """This thread's ``BlobServiceClient`` (upstream name kept)."""
        return self._service()

    @property
    def client(self) -> Any:
        """This thread's ``ContainerClient`` (upstream name kept)."""
        return self._container()

    def _blob_client(self, key: str, snapshot: str | None = None) -> Any:
        if len(key) > MAX_BLOB_NAME:
            raise SuspiciousFileOperation(f"Azure blob names are at most {MAX_BLOB_NAME} characters; "
                                          f"{key[:40]!r}... has {len(key)}")
        return self._container().get_blob_client(key, snapshot=snapshot)

    def _reading(self, key: str) -> tuple[Any, dict[str, Any]]:
        """The blob client (of the snapshot) a read of ``key`` uses, and its keywords
        (``cpk``, ``version_id``) from ``get_object_parameters()``."""
        _, keywords, snapshot = object_params.split(self.get_object_parameters(key))
        return self._blob_client(key, snapshot), keywords

    # -- errors ----------------------------------------------------------------
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        errors = self._require("azure.core.exceptions")
        code = _code(exc)
        where = f"container {self.azure_container!r} at {self.endpoint()}"
        if isinstance(exc, errors.ResourceNotFoundError):
            if code == "ContainerNotFound":
                return self.missing_container()
            return FileNotFoundError(f"{name!r} does not exist in Azure {where}")
        if code.startswith(("BlobUsesCustomerSpecified", "BlobDoesNotUseCustomerSpecified",
                            "BlobCustomerSpecifiedEncryption")):
            return StorageError(f"Azure refused to read {name!r} in {where} ({code}): a blob stored with a "
                                "customer-provided key is read with the same cpk in get_object_parameters()")
        if _is_conflict(exc):  # only create-only writes carry a condition
            return FileExistsError(f"{name!r} already exists in Azure {where}")
        if isinstance(exc, errors.ClientAuthenticationError):
            return PermissionError(
                f"Azure refused access to {name!r} in {where} ({code or exc.status_code}); check "
                "AZURE_ACCOUNT_KEY / AZURE_SAS_TOKEN / AZURE_TOKEN_CREDENTIAL / AZURE_CONNECTION_STRING "
                "and the credential's permissions")
        # A refused Content-MD5 (Azurite answers InvalidOperation, "contentMD5 doesn't match").
        if isinstance(exc, errors.HttpResponseError) and (
                code in {"Md5Mismatch", "Crc64Mismatch"} or re.search(r"(?i)md5\W.*match", str(exc.message))):
            return ChecksumMismatch(f"Azure refused {name!r} in {where}: its bytes were damaged in transit "
                                    f"({code}); nothing was stored")
        if isinstance(exc, errors.HttpResponseError) and code in {"InvalidResourceName", "InvalidUri"}:
            return ImproperlyConfigured(
                f"Azure rejected the name of {name!r} or of {where} ({code}); container names are 3-63 "
                "lowercase letters, digits and hyphens")
        if isinstance(exc, (errors.ServiceRequestError, errors.ServiceResponseError)):
            return ServiceUnavailable(f"Azure Blob endpoint {self.endpoint()} is unreachable: "
                                   f"{type(exc).__name__}")
        if isinstance(exc, errors.HttpResponseError) and exc.status_code == 403:
            return PermissionError(f"Azure refused access to {name!r} in {where} ({code or 403})")
        return super().translate_error(exc, name)

    # -- hooks -----------------------------------------------------------------
    def _stat(self, key: str) -> ObjectInfo:
        client, keywords = self._reading(key)
        return _info(client.get_blob_properties(timeout=self.timeout, **keywords))

    def _open_stream(self, key: str, start: int) -> tuple[Any, ObjectInfo]:
        client, keywords = self._reading(key)
        if not keywords and can_stream(client):  # one GET, read as it arrives
            stream, properties, size = streamed_download(client, start, self.timeout)
            info = _info(properties)
            info.size = size
            return stream, info
        downloader = client.download_blob(
            offset=start or None, max_concurrency=1, decompress=False, timeout=self.timeout, **keywords)
        info = _info(downloader.properties)
        info.size = start + downloader.size  # the downloader reports the size from ``start``
        return Download(downloader), info

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None,
                      conditions: dict[str, Any] | None = None) -> Upload:
        settings = _blob().ContentSettings(**self._content_settings(key, content_type))
        _, keywords, _ = object_params.split(self.get_object_parameters(key))
        return BlockUpload(self._blob_client(key), settings, create_only, max_conn=self.upload_max_conn,
                           timeout=self.timeout, conditions=conditions, checksums=self.checksums,
                           keywords=object_params.write_keywords(keywords))

    def _content_settings(self, key: str, content_type: str | None) -> dict[str, Any]:
        guessed_type, encoding = mimetypes.guess_type(key)
        params: dict[str, Any] = {
            "content_type": content_type or guessed_type or self.default_content_type,
            "content_encoding": encoding,
            "cache_control": self.cache_control,
        }
        params.update(object_params.split(self.get_object_parameters(key))[0])
        return params

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """ContentSettings keywords for blob ``name`` (AZURE_OBJECT_PARAMETERS); override per file.
        Also ``cpk`` (uploads and reads), ``version_id`` and ``snapshot`` (reads): ``.params``."""
        return dict(self.object_parameters)

    def _delete(self, key: str) -> bool:
        errors = self._require("azure.core.exceptions")
        try:
            self._blob_client(key).delete_blob(timeout=self.timeout)
        except errors.ResourceNotFoundError as exc:
            if _code(exc) == "ContainerNotFound":
                raise
            return False
        return True

    def _is_dir(self, prefix: str) -> bool:
        blobs = self._container().list_blobs(name_starts_with=prefix or None, results_per_page=1,
                                             timeout=self.timeout)
        return next(iter(blobs), None) is not None

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        blob = _blob()
        keys: list[str] = []
        dirs: list[str] = []
        items = self._container().walk_blobs(name_starts_with=prefix or None, delimiter="/",
                                             results_per_page=self.list_page_size, timeout=self.timeout)
        for item in items:
            (dirs if isinstance(item, blob.BlobPrefix) else keys).append(item.name)
        return split_listing(prefix, keys, dirs)

    # -- urls ------------------------------------------------------------------
    def url(self, name: str, expire: int | None = None, parameters: dict[str, Any] | None = None,
            mode: str = "r") -> str:
        """The blob's URL; signed (SAS, valid ``expire`` or AZURE_URL_EXPIRATION_SECS seconds) when
        an expiry is set. Signing is local, except for fetching a user-delegation key once."""
        key = self._key(name)
        if self.custom_domain:
            base = f"{self.azure_protocol}://{self.custom_domain.strip('/')}/{self.container}/{quote(key)}"
        else:
            scheme, netloc, path, _, _ = urlsplit(self._container().get_blob_client(key).url)
            base = urlunsplit((scheme, netloc, path, "", ""))  # never the storage's own SAS
        expire = self.expiration_secs if expire is None else expire
        if not expire:
            return base
        with translated(self, name):
            return f"{base}?{self._sas(key, int(expire), parameters or {}, mode)}"

    def _direct_upload(self, request: UploadRequest) -> DirectUpload:
        """A Put Blob with a create/write SAS; the content settings travel as x-ms-blob-* headers."""
        settings = self._content_settings(request.key, request.content_type)
        headers = {f"x-ms-blob-{key.replace('_', '-')}": str(value) for key, value in settings.items()
                   if value is not None and key != "content_md5"}
        url = self.url(request.name, expire=request.expire, mode="cw")
        return DirectUpload(request.name, url, "PUT", settings["content_type"], request.expires_at,
                            headers={"x-ms-blob-type": "BlockBlob", **headers})

    def _sas(self, key: str, expire: int, parameters: dict[str, Any], mode: str) -> str:
        blob = _blob()
        service = self._service()
        expiry = datetime.now(timezone.utc) + timedelta(seconds=expire)
        account_key = getattr(service.credential, "account_key", None)
        delegation_key = None
        if not account_key:
            if self.token_credential is None:
                raise ImproperlyConfigured(
                    "Signed URLs (AZURE_URL_EXPIRATION_SECS or url(expire=...)) need AZURE_ACCOUNT_KEY, a "
                    "connection string with an AccountKey, or AZURE_TOKEN_CREDENTIAL (user-delegation SAS)")
            delegation_key = self._user_delegation_key(expiry)
        return blob.generate_blob_sas(
            service.account_name, self.container, key, account_key=account_key,
            user_delegation_key=delegation_key, permission=blob.BlobSasPermissions.from_string(mode),
            expiry=expiry, **parameters)

    def _user_delegation_key(self, expiry: datetime) -> Any:
        """A user-delegation key valid until at least ``expiry`` (fetched once, reused)."""
        now = datetime.now(timezone.utc)
        if expiry - now > MAX_DELEGATION:
            raise ImproperlyConfigured("User-delegation SAS URLs (AZURE_TOKEN_CREDENTIAL) last 7 days at "
                                       "most: lower AZURE_URL_EXPIRATION_SECS or url(expire=...)")
        with self._delegation_lock:
            if self._delegation is None or self._delegation[1] < expiry:
                key_expiry = now + MAX_DELEGATION
                key = self._service().get_user_delegation_key(now - timedelta(minutes=5), key_expiry,
                                                              timeout=self.timeout)
                self._delegation = (key, key_expiry)
            return self._delegation[0]


def _is_conflict(exc: BaseException) -> bool:
    errors = require("azure.core.exceptions", AzureStorage.sdk_extra)
    return isinstance(exc, (errors.ResourceExistsError, errors.ResourceModifiedError)) or \
        _code(exc) in {"BlobAlreadyExists", "ConditionNotMet"}


def _code(exc: BaseException) -> str:
    """The service's error code (the SDK gives an enum or a str)."""
    code = getattr(exc, "error_code", None)
    return str(getattr(code, "value", code) or "")


def _info(props: Any) -> ObjectInfo:
    settings = getattr(props, "content_settings", None)
    return ObjectInfo(
        size=props.size, modified=props.last_modified, created=getattr(props, "creation_time", None),
        content_type=getattr(settings, "content_type", None),
        content_encoding=getattr(settings, "content_encoding", None), etag=props.etag,
        version=getattr(props, "version_id", None), checksums=stored_checksums(props),
    )
