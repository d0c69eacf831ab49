"""Dropbox emulator: our own fake of the API v2 routes the official SDK uses.

In-process, on two loopback ports: plain HTTP (what ``storage_options()``
points the backend at, through its ``api_endpoint`` option) and HTTPS with a
certificate generated at start, so unmodified code using the official SDK
reaches it through the SDK's own host variables (``env()``). File contents live
in a temporary directory, not in memory. See emulators/dropbox_fake/.
"""

from __future__ import annotations

import http.client
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from .base import Emulator, EmulatorUnavailable, unique_name
from .seed import TreeNamespace

ACCESS_TOKEN = "fake-dropbox-access-token"
APP_KEY = "fake-dropbox-app-key"
APP_SECRET = "fake-dropbox-app-secret"
REFRESH_TOKEN = "fake-dropbox-refresh-token"


class DropboxNamespace(TreeNamespace):
    """A root folder, through the official Dropbox SDK on the fake's plain-HTTP port."""

    def __init__(self, emulator: Any, options: dict[str, Any]) -> None:
        super().__init__(emulator, options)
        self.root = "/" + (options.get("root_path") or "").strip("/")

    def _connect(self) -> Any:
        return self.emulator.client()

    @property
    def client(self) -> Any:
        return self.connection

    def _list(self, path: str) -> tuple[list[str], list[str]]:
        import dropbox

        try:
            page = self.client.files_list_folder("" if path == "/" else path)
        except dropbox.exceptions.ApiError:
            return [], []
        entries = list(page.entries)
        while page.has_more:
            page = self.client.files_list_folder_continue(page.cursor)
            entries.extend(page.entries)
        dirs = [e.name for e in entries if isinstance(e, dropbox.files.FolderMetadata)]
        files = [e.name for e in entries if isinstance(e, dropbox.files.FileMetadata)]
        return dirs, files

    def _mkdir(self, path: str) -> None:
        """Nothing: an upload creates its parent folders."""

    def _write(self, path: str, data: bytes) -> None:
        import dropbox

        self.client.files_upload(data, path, mode=dropbox.files.WriteMode.overwrite)

    def _read(self, path: str) -> bytes:
        import dropbox

        try:
            _, response = self.client.files_download(path)
        except dropbox.exceptions.ApiError as exc:
            raise FileNotFoundError(f"no {path!r} on the Dropbox fake: {exc.error}") from exc
        try:
            return response.content
        finally:
            response.close()

    def _remove(self, path: str) -> None:
        self.client.files_delete_v2(path)

    _rmdir = _remove


class DropboxEmulator(Emulator):
    """The Dropbox fake (emulators.dropbox_fake) with the common emulator lifecycle."""

    name = "dropbox"
    backend = "storages.backends.dropbox.DropBoxStorage"
    namespace_class = DropboxNamespace
    token = ACCESS_TOKEN
    app_key, app_secret, refresh_token = APP_KEY, APP_SECRET, REFRESH_TOKEN

    def __init__(self, *, page_size: int = 100, tls: bool = True) -> None:
        super().__init__()
        self.page_size = page_size
        self.tls = tls
        self.https_port: int | None = None
        self.ca_bundle: str | None = None
        self.store: Any = None
        self._server: Any = None
        self._workdir: Path | None = None

    def start(self) -> None:
        if self.started:
            return
        from .dropbox_fake import FakeDropboxServer, Store, make_certificates

        self._workdir = Path(tempfile.mkdtemp(prefix="storages-dropbox-"))
        try:
            cert = key = None
            if self.tls:
                try:
                    certs = make_certificates(self._workdir)
                except ImportError as exc:
                    raise EmulatorUnavailable(
                        f"the Dropbox fake's HTTPS port needs the 'cryptography' package ({exc}): "
                        "pip install cryptography, or DropboxEmulator(tls=False)"
                    ) from exc
                cert, key, self.ca_bundle = str(certs.cert), str(certs.key), str(certs.bundle)
            self.store = Store(self._workdir / "data", access_tokens={ACCESS_TOKEN}, app_key=APP_KEY,
                               app_secret=APP_SECRET, refresh_tokens={REFRESH_TOKEN},
                               page_size=self.page_size)
            self._server = FakeDropboxServer(self.store, cert, key)
        except BaseException:
            self.stop()
            raise
        self.port, self.https_port = self._server.http_port, self._server.https_port
        self.started = True

    def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self.started = False

    def reset(self) -> None:
        """Forget every file, folder, upload session, cursor and link (tokens stay valid)."""
        self.store.reset()

    def health(self) -> bool:
        if not self.started:
            return False
        try:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=2)
            try:
                conn.request("GET", "/_fake/health")
                return conn.getresponse().status == 200
            finally:
                conn.close()
        except OSError:
            return False

    def describe(self) -> str:
        tls = f", HTTPS for the plain SDK at {self.https_endpoint}" if self.https_port else ""
        return f"{self.name} fake at {self.endpoint}{tls}"

    @property
    def https_endpoint(self) -> str:
        return f"https://{self.host}:{self.https_port}"

    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        options = {"oauth2_access_token": ACCESS_TOKEN, "api_endpoint": self.endpoint, "root_path": "/"}
        options.update(overrides)
        return options

    def refresh_options(self, **overrides: Any) -> dict[str, Any]:
        """OPTIONS that authenticate with an app key/secret and a refresh token instead."""
        options = {"app_key": APP_KEY, "app_secret": APP_SECRET, "oauth2_refresh_token": REFRESH_TOKEN,
                   "api_endpoint": self.endpoint, "root_path": "/"}
        options.update(overrides)
        return options

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        """A fresh root folder of its own (created implicitly by the first upload)."""
        return self.storage_options(**{"root_path": "/" + unique_name("t"), **overrides})

    def env(self) -> dict[str, str]:
        """The official SDK's host variables (read when ``dropbox`` is imported) and a CA bundle.

        The bundle holds the usual public CAs plus the fake's, so other https
        traffic of the same process keeps working.
        """
        if self.https_port is None or self.ca_bundle is None:
            raise EmulatorUnavailable("this Dropbox fake runs without TLS (tls=False): no SDK host variables")
        host = f"{self.host}:{self.https_port}"
        return {
            "DROPBOX_API_HOST": host,
            "DROPBOX_API_CONTENT_HOST": host,
            "DROPBOX_API_NOTIFY_HOST": host,
            "REQUESTS_CA_BUNDLE": self.ca_bundle,
        }

    def client(self, **kwargs: Any) -> Any:
        """A raw ``dropbox.Dropbox`` client on the plain-HTTP port (tests, benchmarks)."""
        import dropbox

        from storages.backends.dropbox import endpoint_session

        kwargs.setdefault("oauth2_access_token", ACCESS_TOKEN)
        return dropbox.Dropbox(session=endpoint_session(self.endpoint), **kwargs)


def conformance_target(get: Callable[[str], Any]) -> tuple[str, dict[str, Any]]:
    emulator = get("dropbox")
    return emulator.backend, emulator.new_namespace()
