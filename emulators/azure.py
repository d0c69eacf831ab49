"""Azure Blob emulator: Azurite (npm, pinned in the repo's package.json), blob service only.

Started as ``node <azurite>/dist/src/blob/main.js`` on 127.0.0.1 and a free port,
in memory, with telemetry always off (it would call out to the internet).
``npm ci`` in the repository root installs the pinned Azurite into
``./node_modules``. With ``https=True`` the emulator serves TLS with a
self-signed certificate made on the fly and accepts OAuth bearer tokens
(``--oauth basic``), which is what token credentials and user-delegation SAS
need; :meth:`AzureEmulator.token_credential` makes tokens Azurite accepts.
Clients reach Azurite through an observation proxy (emulators.proxy, TLS too
with ``https=True``) that records each call and injects faults; Azurite checks
SAS tokens and shared-key signatures itself.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import os
import shutil
import ssl
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from .base import EmulatorUnavailable, ProcessEmulator, unique_name
from .seed import CONTENT_TYPE, METADATA, Namespace, StoredObject

#: Azurite's well-known development account (published in Azurite's docs; not a secret).
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
AZURITE_VERSION = "3.34.0"
DEFAULT_CONTAINER = "storages-dev"
REPO_ROOT = Path(__file__).resolve().parents[1]
_MAIN_JS = Path("node_modules", "azurite", "dist", "src", "blob", "main.js")


#: Runs Azurite's main.js (argv[1]) and exits when the process that started it is gone, so a
#: killed test run or CLI never leaves an orphaned Azurite behind.
_WATCHDOG = (
    "const parent = process.ppid;"
    "setInterval(() => { try { process.kill(parent, 0); } catch (e) {"
    " if (e.code === 'ESRCH') process.exit(0); } }, 1000).unref();"
    "require(process.argv[1]);"
)


def find_azurite() -> list[str]:
    """The argv prefix that runs Azurite's blob service, or EmulatorUnavailable saying what to install."""
    explicit = os.environ.get("AZURITE_BLOB")
    candidates = [Path(explicit)] if explicit else [base / _MAIN_JS for base in (REPO_ROOT, Path.cwd())]
    if not explicit and shutil.which("azurite-blob"):
        candidates.append(Path(os.path.realpath(shutil.which("azurite-blob") or "")))
    for candidate in candidates:
        if candidate.suffix == ".js" and candidate.is_file():
            return [_node(), "-e", _WATCHDOG, str(candidate)]
        if explicit and candidate.is_file():
            return [str(candidate)]  # a packaged executable: no watchdog
    _node()
    raise EmulatorUnavailable(
        f"Azurite {AZURITE_VERSION} is not installed: run `npm ci` in {REPO_ROOT} "
        "(it installs the version pinned in package.json into ./node_modules)"
    )


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise EmulatorUnavailable(
            "Node.js is not installed (Azurite, the Azure Blob emulator, runs on it): install "
            f"Node.js 18 or newer (e.g. `apt-get install nodejs npm`), then run `npm ci` in {REPO_ROOT}"
        )
    return node


class AzuriteTokenCredential:
    """An azure-core TokenCredential whose tokens Azurite's ``--oauth basic`` accepts.

    Azurite checks a bearer token's audience, issuer and lifetime but not its
    signature, so this stands in for Microsoft Entra ID (which no emulator
    provides). Use it only against the emulator.
    """

    def __init__(self, *, object_id: str | None = None, tenant_id: str | None = None) -> None:
        self.object_id = object_id or str(uuid.uuid4())
        self.tenant_id = tenant_id or str(uuid.uuid4())

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        now = int(time.time())
        claims = {
            "aud": "https://storage.azure.com", "iss": f"https://sts.windows.net/{self.tenant_id}/",
            "iat": now - 60, "nbf": now - 60, "exp": now + 3600,
            "oid": self.object_id, "tid": self.tenant_id,
        }

        def part(value: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

        token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.unsigned"
        return AccessToken(token, now + 3600)


class AzureNamespace(Namespace):
    """A container, through a raw ``azure.storage.blob`` client on the emulator's endpoint."""

    fields = frozenset({CONTENT_TYPE, METADATA})

    def __init__(self, emulator: Any, options: dict[str, Any]) -> None:
        super().__init__(emulator, options)
        self.container_name = options["azure_container"]

    def _connect(self) -> Any:
        return self.emulator.service_client(direct=True).get_container_client(self.container_name)

    @property
    def container(self) -> Any:
        return self.connection

    def _put(self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str] | None) -> None:
        from azure.storage.blob import ContentSettings

        settings = ContentSettings(content_type=content_type) if content_type else None
        self.container.upload_blob(key, data, overwrite=True, content_settings=settings, metadata=metadata)

    def _keys(self) -> list[str]:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            return [blob.name for blob in self.container.list_blobs()]
        except ResourceNotFoundError:
            return []

    def _get(self, key: str) -> StoredObject:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            download = self.container.download_blob(key)
        except ResourceNotFoundError as exc:
            raise FileNotFoundError(f"no {key!r} in Azure container {self.container_name!r}") from exc
        props = download.properties
        return StoredObject(key, download.readall(), props.content_settings.content_type,
                            dict(props.metadata or {}))

    def _delete(self, key: str) -> None:
        self.container.delete_blob(key)

    def describe(self) -> str:
        return f"container {self.container_name!r}"


class AzureEmulator(ProcessEmulator):
    """Azurite's blob service on 127.0.0.1, in memory, telemetry off.

    Public, stable attributes (other backends, e.g. libcloud's AZURE_BLOBS
    driver, point at this emulator): ``account_name``, ``account_key``,
    ``host``, ``port``, ``endpoint`` (``http(s)://127.0.0.1:PORT``),
    ``blob_endpoint`` (``endpoint`` + ``/devstoreaccount1``),
    ``connection_string`` and :meth:`new_container`.
    """

    name = "azure"
    backend = "storages.backends.azure_storage.AzureStorage"
    namespace_class = AzureNamespace
    account_name = ACCOUNT_NAME
    account_key = ACCOUNT_KEY

    def __init__(self, *, https: bool = False) -> None:
        super().__init__()
        self.https = https
        #: The self-signed certificate (PEM) clients must trust when ``https``.
        self.ca_file: str | None = None
        #: The newest service API version the running Azurite implements (its x-ms-version).
        self.api_version: str | None = None

    # -- process -------------------------------------------------------------
    def command(self, port: int, workdir: Path) -> list[str]:
        argv = find_azurite() + [
            "--blobHost", self.host, "--blobPort", str(port),
            "--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--loose", "--silent",
        ]
        if self.https:
            cert, key = _self_signed_certificate(workdir, self.host)
            self.ca_file = str(cert)
            argv += ["--cert", str(cert), "--key", str(key), "--oauth", "basic"]
        return argv

    def start(self) -> None:
        find_azurite()  # say what to install before creating anything
        super().start()

    def after_start(self) -> None:
        from .azure_cpk import AzureFront

        self.service_port = self.port
        upstream_tls = None
        if self.https:
            assert self._workdir is not None
            upstream_tls = ssl.create_default_context(cafile=self.ca_file)
            upstream_tls.check_hostname = False
        tls = (self.ca_file, str(self._workdir / "azurite-key.pem")) if self.https else None
        self.front = AzureFront("azure", host=self.host, upstream_tls=upstream_tls, tls=tls)
        self.port = self.front.start((self.host, self.service_port)).port
        headers: dict[str, str] = {}
        self.service_client(direct=True).get_service_properties(
            raw_response_hook=lambda response: headers.update(response.http_response.headers))
        self.api_version = headers.get("x-ms-version")
        self._create_container(DEFAULT_CONTAINER)

    @property
    def scheme(self) -> str:
        return "https" if self.https else "http"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def blob_endpoint(self) -> str:
        return f"{self.endpoint}/{self.account_name}"

    @property
    def connection_string(self) -> str:
        return self._connection_string(self.blob_endpoint)

    def _connection_string(self, blob_endpoint: str) -> str:
        return (
            f"DefaultEndpointsProtocol={self.scheme};AccountName={self.account_name};"
            f"AccountKey={self.account_key};BlobEndpoint={blob_endpoint};"
        )

    def health(self) -> bool:
        """Raw HTTP: any HTTP answer from the blob endpoint means Azurite is serving."""
        port = self.service_port or self.port
        if port is None:
            return False
        if self.https:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, port, timeout=2, context=context)
        else:
            conn = http.client.HTTPConnection(self.host, port, timeout=2)
        try:
            conn.request("GET", f"/{self.account_name}?comp=list")
            response = conn.getresponse()
            response.read()
            return 100 <= response.status < 600
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    # -- state -----------------------------------------------------------------
    def service_client(self, *, direct: bool = False, **kwargs: Any) -> Any:
        """A raw ``BlobServiceClient`` for this emulator (tests, benchmarks, fixtures);
        ``direct=True`` talks to Azurite itself, past the proxy (not observed, no faults)."""
        try:
            from azure.storage.blob import BlobServiceClient
        except ImportError as exc:
            raise EmulatorUnavailable(
                f"azure-storage-blob is not installed ({exc}); pip install 'django-storages[azure]'"
            ) from exc
        if self.ca_file:
            kwargs.setdefault("connection_verify", self.ca_file)
        connection_string = self.connection_string
        if direct and self.service_port is not None:
            connection_string = self._connection_string(f"{self.direct_endpoint}/{self.account_name}")
        return BlobServiceClient.from_connection_string(connection_string, **kwargs)

    def _create_container(self, name: str, public_access: str | None = None) -> None:
        from azure.core.exceptions import ResourceExistsError

        try:
            self.service_client(direct=True).create_container(name, public_access=public_access)
        except ResourceExistsError:
            pass

    def new_container(self, public_access: str | None = None) -> str:
        """Create a fresh, empty container; return its name (public_access: None, 'blob', 'container')."""
        name = unique_name("c")
        self._create_container(name, public_access)
        return name

    def reset(self) -> None:
        """Delete every container, then recreate the default one (no restart)."""
        client = self.service_client(direct=True)
        for container in client.list_containers():
            client.delete_container(container.name)
        self._create_container(DEFAULT_CONTAINER)

    # -- options -------------------------------------------------------------
    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        options: dict[str, Any] = {
            "connection_string": self.connection_string,
            "azure_container": DEFAULT_CONTAINER,
            "expiration_secs": 3600,
        }
        if self.ca_file:
            options["client_options"] = {"connection_verify": self.ca_file}
        options.update(overrides)
        return options

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        return self.storage_options(azure_container=self.new_container(), **overrides)

    def token_credential(self) -> AzuriteTokenCredential:
        """A token credential this emulator accepts (needs ``https=True``)."""
        return AzuriteTokenCredential()

    def env(self) -> dict[str, str]:
        env = {
            "AZURE_STORAGE_CONNECTION_STRING": self.connection_string,
            "AZURE_STORAGE_ACCOUNT": self.account_name,
            "AZURE_STORAGE_KEY": self.account_key,
            "AZURE_STORAGE_BLOB_ENDPOINT": self.blob_endpoint,
        }
        if self.ca_file:
            env["REQUESTS_CA_BUNDLE"] = self.ca_file
        return env


def _self_signed_certificate(workdir: Path, host: str) -> tuple[Path, Path]:
    """A throwaway certificate and key for ``host`` (an IP), valid for a day."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = workdir / "azurite-cert.pem", workdir / "azurite-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def conformance_target(get: Callable[[str], Any]) -> tuple[str, dict[str, Any]]:
    emulator = get("azure")
    return emulator.backend, emulator.new_namespace()
