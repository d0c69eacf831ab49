"""Apache Libcloud storage: any libcloud storage driver, configured by ``LIBCLOUD_PROVIDERS``.

Every provider entry names a driver ``type`` (``'libcloud.storage.types.Provider.S3'``
or a ``Provider`` constant), credentials (seed style ``user``/``key``, or libcloud's
``key``/``secret``), a ``bucket`` and any driver option (``host``, ``port``,
``secure``, ``region``, ``project``, ...), passed through to the driver.

Writes stream through ``upload_object_via_stream`` from a worker thread fed part by
part (memory bounded by the part size); reads stream through
``download_object(_range)_as_stream``. Libcloud's local driver writes straight into
the final file, so for it we write a temporary file and rename (or, create-only,
hard-link) it into place. The byte-moving parts live in ``.transfer`` and ``.local``,
the reading of provider entries in ``.providers``.
"""

from __future__ import annotations

import os
import re
import warnings
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ImproperlyConfigured

from storages.core import BaseStorage, FromStart, ObjectInfo, Option, ServiceUnavailable, Upload, to_bool
from storages.core.capabilities import unsupported_table
from storages.core.compat import BackendFile
from storages.core.errors import secret_strings
from storages.core.streams import ChunkStream

from .local import LocalUpload, open_file
from .providers import OWN_FIELDS, Provider, driver_family, resolve_type, scrub
from .transfer import StreamUpload, azure_sas_url, head_object, s3_get

_NO_TIMES = "libcloud's {driver} reports only a last-modified time"
UNSUPPORTED = {
    "local": {
        "signed_urls": "libcloud's local driver gives a filesystem path as the URL, not a link",
        "fetchable_urls": "libcloud's local driver gives a filesystem path as the URL, not an http(s) link",
        "created_time": "libcloud's local driver reports st_ctime, which on POSIX is the inode change "
                        "time, not the creation time",
    },
    "s3": {
        "created_time": _NO_TIMES.format(driver="S3 driver"),
        "accessed_time": _NO_TIMES.format(driver="S3 driver"),
        "create_only": "libcloud's S3 driver sends request headers only with CreateMultipartUpload, "
                       "never with CompleteMultipartUpload, so saves larger than part_size cannot carry "
                       "If-None-Match: * (they check the name with a HEAD first, which is not race-free)",
    },
    "azure": {
        "created_time": "libcloud's Azure driver does not expose x-ms-creation-time",
        "accessed_time": _NO_TIMES.format(driver="Azure driver"),
        "create_only": "libcloud's Azure driver names the blocks of every upload 1, 2, 3..., so two "
                       "concurrent saves of one name larger than part_size can mix their blocks",
    },
}
UNSUPPORTED["other"] = {
    **UNSUPPORTED["s3"],
    "create_only": "not verified for this libcloud driver: with overwriting off a save checks the "
                   "name first, which is not race-free",
    "signed_urls": "not verified for this libcloud driver",
    "fetchable_urls": "not verified for this libcloud driver",
}
_NO_DIRECT = ("libcloud's storage drivers sign no upload grants (for S3 or Azure, the S3Storage and "
              "AzureStorage backends issue them)")
UNSUPPORTED = {family: unsupported_table({**table, "direct_uploads": _NO_DIRECT},
                                         f"libcloud's {family} drivers")
               for family, table in UNSUPPORTED.items()}


class LibCloudFile(BackendFile):
    """What ``LibCloudStorage.open()`` returns (upstream's ``LibCloudFile``)."""


class LibCloudStorage(BaseStorage):
    """Files in one container (``bucket``) of a ``LIBCLOUD_PROVIDERS`` entry."""

    options = (
        Option("provider_name", ("DEFAULT_LIBCLOUD_PROVIDER",), "default"),
        Option("providers", ("LIBCLOUD_PROVIDERS",), dict),
        Option("file_overwrite", ("LIBCLOUD_FILE_OVERWRITE",), False, convert=to_bool),
        Option("location", ("LIBCLOUD_LOCATION",), ""),
    )
    #: libcloud's S3 driver uploads 5 MiB parts (Azure: 4 MiB blocks); ours match, bounding memory.
    part_size = 5 * 1024 * 1024
    sdk_modules, sdk_extra = ("libcloud",), "libcloud"
    container_kind = "container"
    file_class = LibCloudFile

    def __init__(self, provider_name: str | None = None, option: Any = None, **kwargs: Any) -> None:
        if provider_name is not None:
            kwargs["provider_name"] = provider_name
        if option is not None:  # upstream's second argument, which it never used
            warnings.warn("LibCloudStorage's second argument ('option') has no effect, as in django-storages "
                          "1.14; drop it", DeprecationWarning, stacklevel=2)
        super().__init__(**kwargs)
        self._provider()  # configuration errors surface here, as in the seed (no network)

    def _options_changed(self) -> None:
        super()._options_changed()
        self.location = (self.location or "").strip("/")
        self._resolved: Provider | None = None
        self._upload_drivers: list[Any] = []  # idle drivers for upload threads (list ops are atomic)

    # -- configuration ---------------------------------------------------------
    def _provider(self) -> Provider:
        if self._resolved is None:
            self._resolved = self._resolve()
        return self._resolved

    def _resolve(self) -> Provider:
        self._require("libcloud")
        name = self.provider_name
        conf = (self.providers or {}).get(name)
        if not isinstance(conf, dict) or not conf:
            known = ", ".join(map(repr, self.providers or {})) or "none"
            raise ImproperlyConfigured(
                f"LIBCLOUD_PROVIDERS[{name!r}] is not defined or invalid (defined: {known}); set "
                "DEFAULT_LIBCLOUD_PROVIDER or pass the provider name: LibCloudStorage('name')")
        label = conf.get("type")
        constant, implied = resolve_type(label)
        try:
            from libcloud.storage.providers import get_driver

            driver_cls = get_driver(constant)
        except Exception as exc:  # unknown constant, or the driver's own dependency missing
            raise ImproperlyConfigured(f"Unable to create libcloud driver type {label}: {exc}") from exc
        bucket = conf.get("bucket") or conf.get("container")
        if not bucket:
            raise ImproperlyConfigured(f"LIBCLOUD_PROVIDERS[{name!r}] needs a 'bucket' (the container name)")
        if "secret" in conf:  # libcloud's names
            key, secret = conf.get("key"), conf["secret"]
        elif "user" in conf:  # the seed's names: user is libcloud's key, key its secret
            key, secret = conf["user"], conf.get("key")
        else:
            key, secret = conf.get("key"), None
        kwargs = {**implied, **{k: v for k, v in conf.items() if k not in OWN_FIELDS}}
        provider = Provider(name, str(label), driver_cls, driver_family(driver_cls), key, secret,
                            str(bucket), kwargs)
        _check_ca_certs(provider)
        return provider

    @property
    def unsupported(self) -> dict[str, str]:  # type: ignore[override]
        return UNSUPPORTED[self._provider().family]

    @property
    def family(self) -> str:
        """The driver family: local, s3, azure or other."""
        return self._provider().family

    @property
    def provider(self) -> dict[str, Any]:
        """This storage's ``LIBCLOUD_PROVIDERS`` entry."""
        return dict(self.providers[self.provider_name])

    @property
    def bucket(self) -> str:
        return self._provider().bucket

    def container_name(self) -> str:
        return self.bucket

    def container_setting(self) -> str:
        return f"LIBCLOUD_PROVIDERS[{self.provider_name!r}]['bucket']"

    def _new_driver(self) -> Any:
        p = self._provider()
        try:
            return p.driver_cls(p.key, p.secret, **p.kwargs)
        except Exception as exc:
            raise ImproperlyConfigured(
                f"Unable to create libcloud driver type {p.label}: {_detail(exc)}") from exc

    @property
    def driver(self) -> Any:
        """This thread's libcloud driver (``store.driver.create_container(...)``)."""
        return self._per_thread("driver", self._new_driver)

    def _container(self, driver: Any = None) -> Any:
        from libcloud.storage.base import Container

        return Container(name=self.bucket, extra={}, driver=driver or self.driver)

    def _object(self, key: str, driver: Any = None) -> Any:
        """An Object for ``key`` built locally (no request), for calls that take one."""
        from libcloud.storage.base import Object

        container = self._container(driver)
        return Object(name=key, size=0, hash=None, extra={}, meta_data={}, container=container,
                      driver=container.driver)

    def endpoint(self) -> str:
        p = self._provider()
        if p.family == "local":
            return f"libcloud local driver at {p.key}"
        if p.kwargs.get("host"):
            scheme = "https" if p.kwargs.get("secure", True) else "http"
            port = f":{p.kwargs['port']}" if p.kwargs.get("port") else ""
            return f"libcloud {p.driver_cls.__name__} at {scheme}://{p.kwargs['host']}{port}"
        return f"libcloud {p.driver_cls.__name__} (provider {p.name!r})"

    def __repr__(self) -> str:
        p = self._resolved
        where = f" provider={p.name!r} type={p.label!r} bucket={p.bucket!r}" if p else ""
        return f"<{type(self).__name__}{where}>"

    # -- pickles and option values never carry credentials ---------------------
    def option_values(self, *, include_secrets: bool = False) -> dict[str, Any]:
        values = super().option_values(include_secrets=include_secrets)
        if not include_secrets:
            values["providers"] = scrub(values.get("providers"))
        return values

    def _without_secrets(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        kwargs = super()._without_secrets(kwargs)
        if "providers" in kwargs:
            kwargs["providers"] = scrub(kwargs["providers"])
        return kwargs

    def _secret_strings(self) -> list[str]:
        p = self._resolved  # the key is a path (local) or the account name (Azure) there, not a secret
        keys = [] if p is None or p.family in ("local", "azure") else [*secret_strings(p.key)]
        return super()._secret_strings() + keys + ([] if p is None else [*secret_strings(p.secret)])

    # -- errors ----------------------------------------------------------------
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        from libcloud.common.types import InvalidCredsError
        from libcloud.storage.types import ContainerDoesNotExistError, ObjectDoesNotExistError, ObjectError

        p = self._provider()
        where = f"container {p.bucket!r} of libcloud provider {p.name!r}"
        if isinstance(exc, ObjectDoesNotExistError):
            return FileNotFoundError(f"{name!r} does not exist in {where}")
        if isinstance(exc, ContainerDoesNotExistError) or re.search(r"status.code\W+404", str(exc)):
            return self.missing_container()  # a bare 404 comes from listings and uploads: no container
        if type(exc) is ObjectError:  # the local driver, for a directory (_is_dir then tells)
            return FileNotFoundError(f"{name!r} is a directory, not a file, in {where}")
        busy = re.search(r"status.code\W+(5\d\d|429)\b", str(exc))
        if busy:  # libcloud reports a 5xx or 429 as a generic error naming the status
            return ServiceUnavailable(f"{self.endpoint()} answered {busy.group(1)} for {name!r} in {where}")
        if isinstance(exc, InvalidCredsError) or "403" in str(exc) and "status" in str(exc).lower():
            return PermissionError(f"{self.endpoint()} refused access to {name!r} in {where}: check "
                                   f"the provider's credentials ({type(exc).__name__})")
        text = str(exc)
        if "CA certificate" in text or "CERTIFICATE_VERIFY_FAILED" in text:
            return ImproperlyConfigured(
                f"Unable to create libcloud driver type {p.label}: {_CA_HELP} ({text})")
        return super().translate_error(exc, name)

    # -- hooks -----------------------------------------------------------------
    def _stat(self, key: str) -> ObjectInfo:
        return _info(self._get_object(key))

    def _get_object(self, key: str, driver: Any = None) -> Any:
        """The object's metadata: one HEAD on the S3 and Azure drivers (``head_object``)."""
        driver = driver or self.driver
        if self.family in ("s3", "azure"):
            return head_object(driver, self._container(driver), key)
        return driver.get_object(self.bucket, key)

    def _key_exists(self, key: str) -> bool:
        from libcloud.storage.types import ObjectDoesNotExistError

        try:
            self._stat(key)
        except ObjectDoesNotExistError:
            return False
        return True

    def _open_stream(self, key: str, start: int) -> tuple[Any, ObjectInfo]:
        driver = self.driver
        if self._provider().family == "local":
            # The local driver's range stream reads the whole file into memory: open it here.
            handle, st = open_file(driver.get_object_cdn_url(self._object(key, driver)), key, start)
            return handle, ObjectInfo(size=st.st_size, modified=_stamp(st.st_mtime),
                                      accessed=_stamp(st.st_atime))
        if not start and self.family == "s3":
            chunks, obj = s3_get(driver, self._container(driver), key, self.chunk_size)  # one request
            return ChunkStream(chunks), _info(obj)
        obj = self._get_object(key, driver)
        if not start:
            return ChunkStream(driver.download_object_as_stream(obj)), _info(obj)
        try:
            chunks = driver.download_object_range_as_stream(obj, start)
        except NotImplementedError:  # a driver without ranges: the reader skips to ``start``
            return FromStart(ChunkStream(driver.download_object_as_stream(obj))), _info(obj)
        return ChunkStream(chunks), _info(obj)

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        if self._provider().family == "local":
            return LocalUpload(self, key, create_only)
        return StreamUpload(self, key, create_only, content_type)

    def _delete(self, key: str) -> bool:
        from libcloud.storage.types import ObjectDoesNotExistError

        if self.family in ("s3", "other") and not self._is_file(key):
            return False  # these answer a DELETE the same whether or not the object existed: ask first
        try:
            return bool(self.driver.delete_object(self._object(key)))
        except ObjectDoesNotExistError:
            return False
        except FileNotFoundError:  # the local driver, pruning a parent another delete just pruned
            return True

    def _is_dir(self, prefix: str) -> bool:
        driver = self.driver
        if self.family == "local":  # its listing walks the whole container: look at the directory
            top = os.path.join(driver.get_container_cdn_url(self._container(driver), check=True), prefix)
            return any(files for _, _, files in os.walk(top))
        objects = driver.iterate_container_objects(self._container(driver), prefix=prefix)
        return next(iter(objects), None) is not None

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        dirs: set[str] = set()
        files: set[str] = set()
        # The local driver has no native prefix filter: it walks everything, and warns if given one.
        native = prefix if prefix and self.family != "local" else None
        for obj in self.driver.iterate_container_objects(self._container(), prefix=native):
            rest = obj.name[len(prefix):] if obj.name.startswith(prefix) else ""
            head, slash, _ = rest.partition("/")
            if head:
                (dirs if slash else files).add(head)
        return sorted(dirs), sorted(files)

    def url(self, name: str, expire: int | None = None) -> str:
        """The driver's object URL (S3 presigned, Azure SAS, the local driver's file path);
        ``expire`` in seconds, for the URLs that expire."""
        key = self._key(name)
        driver = self.driver
        obj = self._object(key, driver)
        family = self._provider().family
        hours = {"ex_expiry": expire / 3600} if expire is not None and family != "local" else {}
        try:
            if family == "azure":
                return azure_sas_url(driver, self.bucket, key, **hours)
            return driver.get_object_cdn_url(obj, **hours)
        except NotImplementedError:
            if family == "s3":  # e.g. Google Storage: the public path-style URL
                conn = driver.connection
                scheme = "https" if driver.secure else "http"
                return f"{scheme}://{conn.host}:{conn.port}/{self.bucket}/{quote(key)}"
            raise NotImplementedError(f"libcloud's {type(driver).__name__} has no object URLs") from None


_CA_HELP = (
    "No CA Certificates were found in CA_CERTS_PATH. Point libcloud.security.CA_CERTS_PATH (a path "
    "string in apache-libcloud 2+) or the SSL_CERT_FILE environment variable at a CA bundle file"
)


def _check_ca_certs(p: Provider) -> None:
    """The seed's CA-certificate error, raised when the storage is created."""
    import libcloud.security

    if p.family == "local" or not libcloud.security.VERIFY_SSL_CERT or not p.kwargs.get("secure", True):
        return
    path = libcloud.security.CA_CERTS_PATH
    path = path[0] if isinstance(path, (list, tuple)) and path else path
    if path and not os.path.isfile(str(path)):
        raise ImproperlyConfigured(f"Unable to create libcloud driver type {p.label}: {_CA_HELP} "
                                   f"({path!r} is not a file)")


def _detail(exc: BaseException) -> str:
    """A libcloud error's own message, without its ``<LibcloudError in driver ...>`` wrapping."""
    value = getattr(exc, "value", None)
    return str(value) if isinstance(value, str) and value else str(exc)


def _stamp(value: Any) -> datetime | None:
    """A libcloud time (epoch seconds, HTTP date or ISO 8601) as an aware datetime."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, timezone.utc)
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _info(obj: Any) -> ObjectInfo:
    extra = obj.extra or {}
    return ObjectInfo(
        size=int(obj.size) if obj.size is not None else None,
        modified=_stamp(extra.get("modify_time", extra.get("last_modified"))),
        accessed=_stamp(extra.get("access_time")),
        content_type=extra.get("content_type"),
        content_encoding=extra.get("content_encoding"),
        etag=obj.hash,
    )


