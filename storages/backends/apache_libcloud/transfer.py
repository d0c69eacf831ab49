"""How LibCloudStorage moves bytes through a driver: streamed uploads on a worker
thread, chunked reads, and Azure SAS URLs signed as Azure requires (the local driver
has ``.local``)."""

from __future__ import annotations

import queue
import re
import tempfile
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, Protocol
from urllib.parse import quote, urlencode

from storages.core import Upload


class LibCloudTarget(Protocol):
    """What the uploads need of the storage (``LibCloudStorage`` provides it)."""

    driver: Any
    _upload_drivers: list[Any]

    @property
    def family(self) -> str: ...

    def _new_driver(self) -> Any: ...

    def _container(self, driver: Any = None) -> Any: ...

    def _object(self, key: str, driver: Any = None) -> Any: ...

    def _key_exists(self, key: str) -> bool: ...


PRECONDITION = re.compile(r"\b(?:409|412)\b|PreconditionFailed|ConditionNotMet|BlobAlreadyExists")


def azure_sas_url(driver: Any, container: str, key: str, ex_expiry: float | None = None) -> str:
    """The read SAS URL libcloud's ``get_object_cdn_url`` makes, but signing the decoded blob
    name as Azure requires (libcloud 3.9 signs the percent-encoded path, so Azure refuses its
    URLs for names with spaces or non-ASCII characters)."""
    import base64
    import hashlib
    import hmac

    from libcloud.storage.drivers.azure_blobs import AZURE_STORAGE_CDN_URL_EXPIRY_HOURS as HOURS

    now, fmt = datetime.now(timezone.utc), "%Y-%m-%dT%H:%M:%SZ"
    params = {"st": (now - timedelta(minutes=5)).strftime(fmt),
              "se": (now + timedelta(hours=ex_expiry or HOURS)).strftime(fmt), "sp": "r",
              "spr": "https" if driver.secure else "http,https", "sv": driver.connectionCls.API_VERSION,
              "sr": "b"}
    to_sign = "\n".join([params["sp"], params["st"], params["se"], f"/blob/{driver.key}/{container}/{key}",
                         "", "", params["spr"], params["sv"], params["sr"], "", "", "", "", "", ""])
    digest = hmac.new(driver.secret, to_sign.encode(), hashlib.sha256).digest()
    params["sig"] = base64.b64encode(digest).decode()
    conn = driver.connection
    path = conn.morph_action_hook(f"/{container}/{quote(key)}")
    return f"{'https' if driver.secure else 'http'}://{conn.host}:{conn.port}{path}?{urlencode(params)}"


class _KnownContainer:
    """A driver whose ``get_container`` answers with the storage's container, without a request;
    everything else is the driver's."""

    def __init__(self, driver: Any, container: Any) -> None:
        self._driver, self._known = driver, container

    def get_container(self, container_name: str) -> Any:
        if container_name == self._known.name:
            return self._known
        return self._driver.get_container(container_name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)


def head_object(driver: Any, container: Any, key: str) -> Any:
    """``driver.get_object(container.name, key)`` in one request: libcloud's S3 and Azure
    drivers ask for the container first (a HEAD of the bucket) each time, which a storage that
    knows its container can skip; a missing container then shows as a missing object, and the
    storage's listing tells the two apart. The driver's own ``get_object`` does the rest."""
    obj = type(driver).get_object(_KnownContainer(driver, container), container.name, key)
    obj.driver = driver
    if getattr(obj, "container", None) is not None:
        obj.container.driver = driver
    return obj


def s3_get(driver: Any, container: Any, key: str, chunk_size: int) -> tuple[Iterator[bytes], Any]:
    """One streamed GET of the whole object on libcloud's S3 driver, and the object built from
    that response's headers: ``download_object_as_stream`` needs the object first (a HEAD),
    and drops the headers. The same calls the driver makes, through its own helpers. Chunks
    are ``chunk_size`` long (the storage's read size), so a read of that size hands one on as
    it came, uncopied (the driver's own 5 MiB chunks were sliced into every read)."""
    from libcloud.common.types import LibcloudError
    from libcloud.storage.types import ObjectDoesNotExistError

    response = driver.connection.request(driver._get_object_path(container, key), method="GET",
                                         stream=True, raw=True)
    if response.status == 404:
        raise ObjectDoesNotExistError(object_name=key, value="", driver=driver)
    if response.status != 200:
        raise LibcloudError(value=f"Unexpected status code: {response.status}", driver=driver)
    obj = driver._headers_to_object(object_name=key, container=container, headers=response.headers)
    return response.iter_content(chunk_size), obj


_END = object()


class _Aborted(Exception):
    """Raised inside the driver's upload iterator so the driver discards the upload."""


class StreamUpload(Upload):
    """Parts go to ``upload_object_via_stream`` on a worker thread through a one-slot queue.

    A file smaller than one part is one ``upload_object`` request (from a temporary
    file) carrying ``If-None-Match: *`` when create-only. Aborting raises inside the
    driver's iterator: S3 aborts the multipart upload, Azure never commits the block
    list, so nothing appears under the name.
    """

    def __init__(self, storage: LibCloudTarget, key: str, create_only: bool, content_type: str | None):
        self.storage, self.key, self.create_only = storage, key, create_only
        self.extra = {"content_type": content_type} if content_type else {}
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=1)
        self.thread: threading.Thread | None = None
        self.done = threading.Event()
        self.error: BaseException | None = None

    def _headers(self) -> dict[str, str]:
        """Create-only saves ask the service itself (S3 PutObject, Azure Put Blob / Put Block List)."""
        conditional = self.create_only and self.storage.family in ("s3", "azure")
        return {"If-None-Match": "*"} if conditional else {}

    def _chunks(self) -> Iterator[bytes]:
        while True:
            item = self.queue.get()
            if item is _END:
                return
            if isinstance(item, _Aborted):
                raise item
            yield item

    def _run(self) -> None:
        pool = self.storage._upload_drivers
        try:
            # Not the caller's driver: the caller's thread may use it meanwhile.
            driver = pool.pop() if pool else self.storage._new_driver()
            driver.upload_object_via_stream(self._chunks(), self.storage._container(driver), self.key,
                                            extra=self.extra, headers=self._headers())
            pool.append(driver)
        except BaseException as exc:  # handed to the caller's thread
            self.error = exc
        finally:
            self.done.set()

    def _put(self, item: Any) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name=f"libcloud-upload {self.key}", daemon=True)
            self.thread.start()
        while True:
            if self.done.is_set():
                raise self.error or RuntimeError("the libcloud upload ended before all parts were sent")
            try:
                self.queue.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def write_part(self, data: bytes) -> None:
        self._put(data)

    def _check_first(self, streamed: bool) -> None:
        """Where the service cannot refuse for us, look for the name before committing (racy)."""
        family = self.storage.family
        if self.create_only and (family == "other" or streamed and family == "s3"):
            if self.storage._key_exists(self.key):
                raise FileExistsError(f"{self.key!r} already exists")

    def commit(self, tail: bytes) -> None:
        try:
            if self.thread is None and tail:
                self._check_first(streamed=False)
                self._upload_small(tail)
                return
            # Streamed (also empty files: requests would send an empty file body chunked).
            self._check_first(streamed=True)
            if tail:
                self._put(tail)
            self._put(_END)
            assert self.thread is not None
            self.thread.join()
            if self.error is not None:
                raise self.error
        except FileExistsError:
            raise
        except Exception as exc:
            if self.create_only and (PRECONDITION.search(str(exc)) or self._taken()):
                raise FileExistsError(f"{self.key!r} already exists") from exc
            raise

    def _taken(self) -> bool:
        """After a failed create-only upload: is the name taken? (libcloud's Azure driver reports
        a refused Put Block List only as "Error in blocklist commit", without the status.)"""
        try:
            return self.storage._key_exists(self.key)
        except Exception:  # the original error is the one to report
            return False

    def _upload_small(self, data: bytes) -> None:
        """One request (S3 PutObject, Azure Put Blob) from a temporary file."""
        storage = self.storage
        with tempfile.NamedTemporaryFile(prefix="storages-libcloud-") as tmp:
            tmp.write(data)
            tmp.flush()
            storage.driver.upload_object(file_path=tmp.name, container=storage._container(),
                                         object_name=self.key, extra=self.extra, verify_hash=False,
                                         headers=self._headers())

    def abort(self) -> None:
        if self.thread is None or self.done.is_set():
            return
        try:
            self._put(_Aborted("upload aborted"))
        except BaseException:  # the worker already failed: nothing was committed
            pass
        self.thread.join()
