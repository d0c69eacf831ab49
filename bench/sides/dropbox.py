"""Dropbox: the dropbox SDK on our fake of its API."""

from __future__ import annotations

import os
from typing import Any

from .base import MB, Backend, Raw, hash_all, overwrite_option


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
                      **overwrite_option("file_overwrite", overwrite)})

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        mode = {} if overwrite is None else {"write_mode": "overwrite" if overwrite else "add"}
        return cls(oauth2_access_token=self.options["oauth2_access_token"], root_path=f"/cmp-{ns}", **mode)

    checks = True
    raw_check_reasons = {"save": "the dropbox SDK's plain route already does ours' check: "
                                 "auto_content_hash sends the content hash of every upload request"}

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

        mode = WriteMode.add if overwrite is False else WriteMode.overwrite  # add: never replaces
        self.client.files_upload(data, f"/cmp-{ns}/{name}", mode=mode)

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

    def checked(self) -> Raw:
        return DropboxChecked(self.client)

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


class DropboxChecked(DropboxRaw):
    """Ours' check on a read: the content hash of the bytes as they arrive, compared with the one
    the download's metadata reports (the SDK checks nothing on a download)."""

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        from storages.core.checksums import DropboxContentHash

        metadata, response = self.client.files_download(f"/cmp-{ns}/{name}")
        hashed = DropboxContentHash()
        with response:
            count = hash_all(response.iter_content(chunk or MB), hashed)
        if hashed.hexdigest() != metadata.content_hash:
            raise AssertionError(f"content hash mismatch reading {name}")
        return count
