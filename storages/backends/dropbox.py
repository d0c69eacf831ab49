"""Dropbox storage on the official ``dropbox`` SDK (API v2), built on the shared core.

Every name lives under ``root_path`` (``DROPBOX_ROOT_PATH``), the jail: the
core refuses names that would leave it. Uploads go through upload sessions in
parts of ``part_size`` bytes (one ``files/upload`` when the file fits in one
part); create-only saves use ``add`` mode without autorename, so a conflict is
reported by Dropbox itself. Every upload request carries the content hash of its
bytes, which Dropbox checks; downloads stream, with ``Range`` for seeks, and a whole
download is checked against the file's content hash.

Longer than before the consolidation (369 lines): the content-hash checks on both
directions, resumed reads and 1.14's names (``DropboxFile``, ``DropBoxStorageException``)
were added here.
"""

from __future__ import annotations

import errno
import inspect
from datetime import timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation

from storages.core import (
    BaseStorage,
    ChecksumMismatch,
    FromStart,
    ObjectInfo,
    Option,
    ServiceUnavailable,
    StorageError,
    Upload,
    not_empty,
    to_bool,
    translated,
)
from storages.core.checksums import DropboxContentHash
from storages.core.compat import BackendFile
from storages.core.streams import ResponseStream

DEFAULT_API_HOST = "api.dropboxapi.com"
#: Tags of Dropbox route errors that mean "no space" and "not allowed".
NO_SPACE = {"insufficient_space", "team_folder_insufficient_space", "member_folder_insufficient_space"}
DENIED = {"no_write_permission", "team_folder", "access_restricted", "restricted_content", "locked",
          "not_allowed", "email_not_verified"}
CREDENTIAL_SETTINGS = ("DROPBOX_OAUTH2_TOKEN, or DROPBOX_APP_KEY + DROPBOX_APP_SECRET + "
                       "DROPBOX_OAUTH2_REFRESH_TOKEN")


def endpoint_session(endpoint: str, pool_maxsize: int = 8) -> Any:
    """A ``requests`` session that sends the SDK's ``https://<dropbox host>/...`` calls to ``endpoint``.

    The SDK hard-codes https and its hosts; a transport adapter mounted on the
    session rewrites each URL instead of patching the SDK's globals.
    """
    import requests
    from requests.adapters import HTTPAdapter
    from requests.utils import get_environ_proxies

    target = urlsplit(endpoint)
    if target.scheme not in ("http", "https") or not target.netloc:
        raise ImproperlyConfigured(f"DROPBOX_API_ENDPOINT must be an http(s) URL, not {endpoint!r}")
    prefix = target.path.rstrip("/")
    proxies = get_environ_proxies(endpoint)  # the SDK's host picked them; the endpoint's apply

    class EndpointAdapter(HTTPAdapter):
        def send(self, request: Any, **kwargs: Any) -> Any:
            url = urlsplit(request.url)
            parts = (target.scheme, target.netloc, prefix + url.path, url.query, url.fragment)
            request.url = urlunsplit(parts)
            kwargs["proxies"] = proxies
            return super().send(request, **kwargs)

    session = requests.Session()
    session.mount("https://", EndpointAdapter(pool_connections=2, pool_maxsize=pool_maxsize))
    return session


def _root_path(value: Any) -> str:
    """'/', or '/a/b': a leading slash, no trailing one (Dropbox paths)."""
    parts = [p for p in str(value).replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"DROPBOX_ROOT_PATH may not contain '..': {value!r}")
    return "/" + "/".join(parts)


def _write_mode(value: Any) -> str:
    mode = str(value).strip().lower()
    if mode not in ("add", "overwrite"):
        raise ValueError(f"DROPBOX_WRITE_MODE must be 'add' or 'overwrite', not {value!r}")
    return mode


def _timeout(value: Any) -> float:
    return float(value)


def _tags(error: Any) -> list[str]:
    """The tag path of a nested Dropbox error union, e.g. ['path', 'conflict', 'file']."""
    tags: list[str] = []
    while error is not None:
        tag = getattr(error, "_tag", None)
        if tag is None:  # a struct such as UploadWriteFailed: follow its reason
            error = getattr(error, "reason", None)
            continue
        tags.append(tag)
        error = getattr(error, "_value", None)
    return tags


class _SessionUpload(Upload):
    """Parts go to an upload session in order (a session takes an append only at its
    current offset: no part pool); the commit is ``finish`` (or one ``files/upload``).
    Each request carries the content hash of its bytes (``checksums``)."""

    def __init__(self, client: Any, path: str, create_only: bool, checksums: bool = True) -> None:
        from dropbox.files import WriteMode

        self._client = client
        self._path = path
        self._mode = WriteMode.add if create_only else WriteMode.overwrite
        self._cursor: Any = None
        self._checksums = checksums

    def _hash(self, data: bytes) -> str | None:
        if not self._checksums:
            return None
        hasher = DropboxContentHash()
        hasher.update(data)
        return hasher.hexdigest()

    def write_part(self, data: bytes) -> None:
        from dropbox.files import UploadSessionCursor

        if self._cursor is None:
            started = self._client.files_upload_session_start(data, content_hash=self._hash(data))
            self._cursor = UploadSessionCursor(started.session_id, len(data))
        else:
            self._client.files_upload_session_append_v2(data, self._cursor, content_hash=self._hash(data))
            self._cursor.offset += len(data)

    def commit(self, tail: bytes) -> None:
        from dropbox.files import CommitInfo

        # strict_conflict: identical content under the name is a conflict too (create-only).
        if self._cursor is None:
            self._client.files_upload(tail, self._path, mode=self._mode, autorename=False,
                                      strict_conflict=True, content_hash=self._hash(tail))
        else:
            commit = CommitInfo(self._path, mode=self._mode, autorename=False, strict_conflict=True)
            self._client.files_upload_session_finish(tail, self._cursor, commit,
                                                     content_hash=self._hash(tail))
        # A conflict arrives as ApiError path/conflict: translate_error makes it FileExistsError.

    def abort(self) -> None:
        # An upload session that is never finished is never visible; Dropbox expires it.
        self._cursor = None


class DropboxStorageException(Exception):
    """Upstream's error. This backend raises Django/Python errors instead; ``except
    DropboxStorageException`` still catches them (every ``OSError`` the storage raises is one)."""


DropBoxStorageException = DropboxStorageException


class DropboxFile(BackendFile):
    """What ``DropboxStorage.open()`` returns (upstream's ``DropboxFile``, alias ``DropBoxFile``)."""


DropBoxFile = DropboxFile


class DropboxStorage(BaseStorage):
    """Django storage in a Dropbox account, jailed to ``root_path``."""

    options = (
        Option("oauth2_access_token", ("DROPBOX_OAUTH2_TOKEN",), secret=True),
        Option("root_path", ("DROPBOX_ROOT_PATH",), default="/", convert=_root_path, aliases=("location",)),
        Option("app_key", ("DROPBOX_APP_KEY",)),
        Option("app_secret", ("DROPBOX_APP_SECRET",), secret=True),
        Option("oauth2_refresh_token", ("DROPBOX_OAUTH2_REFRESH_TOKEN",), secret=True),
        Option("timeout", ("DROPBOX_TIMEOUT",), default=100, convert=_timeout),
        Option("write_mode", ("DROPBOX_WRITE_MODE",), default="add", convert=_write_mode),
        # None: follow write_mode ("overwrite" -> True, "add" -> False).
        Option("file_overwrite", default=None, convert=to_bool),
        Option("api_endpoint", ("DROPBOX_API_ENDPOINT",)),
    )
    unsupported = {
        "created_time": "Dropbox reports only server_modified and client_modified, no creation time",
        "accessed_time": "Dropbox does not record when a file was last read",
        "direct_uploads": "not offered: Dropbox's temporary upload links (files/get_temporary_upload_link) "
                          "take the raw bytes in a POST, last at least a minute and cannot cap the size",
    }
    #: Upload part size: Dropbox hashes content in 4 MiB blocks; upstream used 4 MiB chunks.
    part_size = 4 * 1024 * 1024
    sdk_modules, sdk_extra = ("dropbox",), "dropbox"
    file_overwrite: bool | None = None  # type: ignore[assignment]
    file_class = DropboxFile
    legacy_error = DropboxStorageException

    def __init__(self, oauth2_access_token: str | None = None, **kwargs: Any) -> None:
        if oauth2_access_token is not None:  # upstream's positional first argument
            kwargs["oauth2_access_token"] = oauth2_access_token
        super().__init__(**kwargs)

    def _options_changed(self) -> None:
        super()._options_changed()
        if self.file_overwrite is None:
            self.file_overwrite = self.write_mode == "overwrite"

    @property
    def root(self) -> str:
        return self.root_path

    def endpoint(self) -> str:
        if self.api_endpoint:
            return self.api_endpoint
        try:
            from dropbox.session import API_HOST
        except ImportError:
            API_HOST = DEFAULT_API_HOST
        return f"https://{API_HOST}"

    # -- client ------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """This thread's ``dropbox.Dropbox`` client (created on first use)."""
        return self._per_thread("client", self._new_client)

    def _new_client(self) -> Any:
        dropbox = self._require("dropbox")
        refresh = self.app_key and self.oauth2_refresh_token
        if not self.oauth2_access_token and not refresh:
            raise ImproperlyConfigured(f"{type(self).__name__} needs credentials: set {CREDENTIAL_SETTINGS}.")
        session = endpoint_session(self.api_endpoint) if self.api_endpoint else dropbox.create_session()
        return dropbox.Dropbox(
            oauth2_access_token=self.oauth2_access_token or None,
            oauth2_refresh_token=self.oauth2_refresh_token if refresh else None,
            app_key=self.app_key if refresh else None,
            app_secret=self.app_secret if refresh else None,
            timeout=self.timeout, session=session, user_agent="django-storages", **self._sdk_hashing(dropbox),
        )

    def _sdk_hashing(self, dropbox: Any) -> dict[str, Any]:
        """With checksums off, also stop the SDKs that hash uploads by themselves (12.2+)."""
        known = inspect.signature(dropbox.Dropbox.__init__).parameters
        return {"auto_content_hash": False} if not self.checksums and "auto_content_hash" in known else {}

    @staticmethod
    def _path(key: str) -> str:
        """A Dropbox path for a key: no trailing slash; the account root is ''."""
        return key.rstrip("/")

    @staticmethod
    def _info(metadata: Any) -> ObjectInfo:
        modified = metadata.server_modified.replace(tzinfo=timezone.utc)
        content_hash = getattr(metadata, "content_hash", None)
        return ObjectInfo(size=metadata.size, modified=modified, etag=metadata.rev,
                          checksums={"dropbox": bytes.fromhex(content_hash)} if content_hash else {})

    # -- hooks ---------------------------------------------------------------------------
    def _stat(self, key: str) -> ObjectInfo:
        from dropbox.files import FileMetadata

        metadata = self.client.files_get_metadata(self._path(key))
        if not isinstance(metadata, FileMetadata):
            raise IsADirectoryError(f"{key!r} is a folder in Dropbox, not a file")
        return self._info(metadata)

    def _open_stream(self, key: str, start: int) -> tuple[Any, ObjectInfo]:
        headers = {"Range": f"bytes={start}-"} if start else None
        metadata, response = self.client.files_download(self._path(key), extra_headers=headers)
        stream = ResponseStream(response, decode_content=True)
        ignored = start and response.status_code != 206  # a Range ignored: the reader skips to start
        return (FromStart(stream) if ignored else stream), self._info(metadata)

    def _begin_upload(self, key: str, *, create_only: bool, content_type: str | None) -> Upload:
        return _SessionUpload(self.client, self._path(key), create_only, self.checksums)

    def _delete(self, key: str) -> bool:
        """Dropbox deletes folders with their contents: look first, and remove only a file or an
        empty folder. (A file added to that folder between the look and the delete goes too.)"""
        from dropbox.exceptions import ApiError
        from dropbox.files import FolderMetadata

        path = self._path(key)
        try:
            metadata = self.client.files_get_metadata(path)
        except ApiError as exc:
            if "not_found" in _tags(exc.error):
                return False
            raise
        if isinstance(metadata, FolderMetadata) and self.client.files_list_folder(path, limit=1).entries:
            raise not_empty(key, self.endpoint())
        self.client.files_delete_v2(path)
        return True

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        from dropbox.exceptions import ApiError
        from dropbox.files import FileMetadata, FolderMetadata

        for _ in range(3):  # a cursor Dropbox "reset" restarts the listing
            dirs, files = [], []
            try:
                result = self.client.files_list_folder(self._path(prefix))
                while True:
                    for entry in result.entries:
                        if isinstance(entry, FolderMetadata):
                            dirs.append(entry.name)
                        elif isinstance(entry, FileMetadata):
                            files.append(entry.name)
                    if not result.has_more:
                        return sorted(dirs), sorted(files)
                    result = self.client.files_list_folder_continue(result.cursor)
            except ApiError as exc:
                if _tags(exc.error) != ["reset"]:
                    raise  # not_found / not_folder: FileNotFoundError / NotADirectoryError
        raise ServiceUnavailable(f"Dropbox at {self.endpoint()} kept resetting the listing of {prefix!r}")

    def url(self, name: str) -> str:
        """A temporary link (valid four hours) served by Dropbox; one API call."""
        key = self._key(name)
        with translated(self, name):
            return self.client.files_get_temporary_link(self._path(key)).link

    # -- errors --------------------------------------------------------------------------
    def translate_error(self, exc: BaseException, name: str) -> BaseException | None:
        try:
            from dropbox import exceptions as dbx
        except ImportError:
            return super().translate_error(exc, name)
        import requests
        import urllib3

        where = f"Dropbox at {self.endpoint()}"
        if isinstance(exc, dbx.ApiError):
            return self._api_error(exc, name, where)
        if isinstance(exc, dbx.AuthError):
            tag = getattr(exc.error, "_tag", "other")
            if tag in ("invalid_access_token", "expired_access_token"):
                return PermissionError(f"{where} refused the token ({tag}): check {CREDENTIAL_SETTINGS}.")
            if tag == "missing_scope":
                scope = exc.error.get_missing_scope().required_scope
                return PermissionError(f"{where}: the token lacks the {scope!r} scope needed for {name!r}")
            return PermissionError(f"{where} refused access to {name!r} ({tag})")
        if isinstance(exc, dbx.BadInputError) and "invalid_client" in str(exc.message):
            return PermissionError(f"{where} refused the app credentials: check DROPBOX_APP_KEY and "
                                   "DROPBOX_APP_SECRET.")
        if isinstance(exc, (dbx.InternalServerError, dbx.RateLimitError)):
            return ServiceUnavailable(f"{where} is unavailable ({type(exc).__name__}) for {name!r}")
        if isinstance(exc, requests.exceptions.SSLError):
            return ServiceUnavailable(f"{where}: TLS verification failed ({exc}); for a local endpoint set "
                                      "REQUESTS_CA_BUNDLE to its CA bundle")
        if isinstance(exc, (requests.exceptions.RequestException, urllib3.exceptions.HTTPError)):
            return ServiceUnavailable(f"{type(self).__name__} could not reach {where}: {exc}")
        return super().translate_error(exc, name)

    @staticmethod
    def _api_error(exc: Any, name: str, where: str) -> BaseException | None:
        tags = _tags(exc.error)
        summary = "/".join(tags)
        tagset = set(tags)
        if "not_found" in tagset:
            return FileNotFoundError(errno.ENOENT, f"{where}: no such file ({summary})", name)
        if "not_file" in tagset:
            return IsADirectoryError(errno.EISDIR, f"{where}: a folder, not a file ({summary})", name)
        if "not_folder" in tagset or tags[-1:] == ["file_ancestor"]:
            return NotADirectoryError(errno.ENOTDIR, f"{where}: a file stands in the path ({summary})", name)
        if "conflict" in tagset:
            return FileExistsError(errno.EEXIST, f"{where}: the name is taken ({summary})", name)
        if tagset & {"malformed_path", "disallowed_name"}:
            return SuspiciousFileOperation(f"{where} refuses the name {name!r} ({summary})")
        if tagset & NO_SPACE:
            return StorageError(errno.ENOSPC, f"{where}: no space left ({summary})", name)
        if tagset & DENIED:
            return PermissionError(errno.EACCES, f"{where}: permission denied ({summary})", name)
        if "content_hash_mismatch" in tagset:
            return ChecksumMismatch(f"{where} refused {name!r}: its bytes were damaged in transit "
                                    f"({summary}); nothing was stored")
        if "too_many_write_operations" in tagset:
            return ServiceUnavailable(f"{where}: {summary} for {name!r}; try again")
        return None  # the storage's generic error


DropBoxStorage = DropboxStorage

__all__ = ["DropBoxFile", "DropBoxStorage", "DropboxFile", "DropboxStorage", "DropBoxStorageException",
           "DropboxStorageException", "endpoint_session"]
