"""Where the example site keeps its files: one emulated service, chosen by name.

``configure(name, session)`` starts that service's emulator through the
emulators' public lifecycle (``EmulatorSession.get``, ``new_namespace()``,
``emulator.backend``) and returns the site's ``STORAGES``: media under
``media/`` and static files, with hashed names from the manifest static
storage, under ``static/`` of one fresh bucket / container / folder.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from django.utils.module_loading import import_string

from emulators.session import EmulatorSession

#: The backends the site runs on; the names are the conformance targets' ids.
BACKENDS = ("s3", "gcs", "azure", "dropbox", "ftp", "sftp", "libcloud-s3", "libcloud-azure", "libcloud-local")
#: Short names the demo also accepts.
ALIASES = {"libcloud": "libcloud-s3"}
EXAMPLE = "example.storage."


class NotServable(ValueError):
    """The backend's ``url()`` gives nothing a browser can load, and the site cannot serve it either."""


@dataclass
class SiteStorage:
    """How the site stores its files, and what a browser needs to load them."""

    backend: str
    #: What runs behind the storage, for people.
    label: str
    #: What ``url()`` hands the browser, for people.
    url_kind: str
    storages: dict[str, Any]
    #: Where the browser fetches files from: the emulator, or "" when the site serves them itself.
    endpoint: str = ""
    #: STORAGES aliases whose URLs point at the site, which streams their files from the storage.
    served: tuple[str, ...] = ()
    #: Environment for the site's process (e.g. the CA bundle the Dropbox SDK trusts).
    environ: dict[str, str] = field(default_factory=dict)
    #: A PEM bundle that contains the CA a browser must trust to load ``endpoint``.
    ca_bundle: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def canonical(name: str) -> str:
    """The backend's canonical name, or ValueError listing the valid ones."""
    name = ALIASES.get(name, name)
    if name not in BACKENDS:
        valid = ", ".join([*BACKENDS, *ALIASES])
        raise ValueError(f"unknown backend {name!r}; valid: {valid}")
    return name


def configure(name: str, session: EmulatorSession) -> SiteStorage:
    """Start the emulator behind ``name`` in ``session`` and return the site's storage settings."""
    return _CONFIGURE[canonical(name)](session)


def check_servable(site: SiteStorage) -> None:
    """Raise NotServable, with the backend's own reason, when a browser could not load its files
    (call once Django's settings are configured)."""
    media = site.storages["default"]
    storage = import_string(media["BACKEND"])(**media["OPTIONS"])
    reason = storage.unsupported.get("fetchable_urls")
    if reason and "default" not in site.served:
        raise NotServable(f"{site.backend} cannot back a web page: {reason}")


def _storages(backend: str, static_backend: str, options: dict[str, Any],
              media: dict[str, Any], static: dict[str, Any]) -> dict[str, Any]:
    return {
        "default": {"BACKEND": backend, "OPTIONS": {**options, **media}},
        "staticfiles": {"BACKEND": static_backend, "OPTIONS": {**options, **static}},
    }


def _s3(session: EmulatorSession) -> SiteStorage:
    s3 = session.get("s3")
    # Static files: readable by anyone (S3ManifestStaticStorage's URLs are unsigned).
    options = s3.new_namespace()
    storages = _storages(s3.backend, "storages.backends.s3.S3ManifestStaticStorage", options,
                         {"location": "media"}, {"location": "static", "default_acl": "public-read"})
    # The direct-upload page's script posts to the bucket from the site's origin.
    s3.client(direct=True).put_bucket_cors(Bucket=options["bucket_name"], CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["POST"], "AllowedHeaders": ["*"]}]})
    return SiteStorage("s3", f"Amazon S3 (moto at {s3.endpoint})",
                       "media: presigned URLs; static: plain URLs with hashed names", storages, s3.endpoint)


def _gcs(session: EmulatorSession) -> SiteStorage:
    gcs = session.get("gcs")
    # Static files: readable by anyone, so their URLs are unsigned (stable).
    storages = _storages(gcs.backend, EXAMPLE + "GoogleCloudManifestStaticStorage", gcs.new_namespace(),
                         {"location": "media"}, {"location": "static", "default_acl": "publicRead"})
    return SiteStorage("gcs", f"Google Cloud Storage ({gcs.describe()})",
                       "media: V4 signed URLs; static: public URLs with hashed names", storages, gcs.endpoint)


def _azure(session: EmulatorSession) -> SiteStorage:
    azure = session.get("azure")
    storages = _storages(azure.backend, EXAMPLE + "AzureManifestStaticStorage", azure.new_namespace(),
                         {"location": "media"}, {})
    # Static files: a container with public read access, unsigned (stable) URLs.
    storages["staticfiles"]["OPTIONS"].update(azure_container=azure.new_container(public_access="blob"),
                                              expiration_secs=None)
    # The direct-upload page's script puts blobs from the site's origin.
    from azure.storage.blob import CorsRule

    azure.service_client(direct=True).set_service_properties(
        cors=[CorsRule(["*"], ["PUT"], allowed_headers=["*"], exposed_headers=["*"])])
    return SiteStorage("azure", f"Azure Blob Storage (Azurite at {azure.endpoint})",
                       "media: SAS URLs; static: a public container, hashed names", storages, azure.endpoint)


def _dropbox(session: EmulatorSession) -> SiteStorage:
    dropbox = session.get("dropbox")
    # The HTTPS port, as with the real service: temporary links are https:// links too.
    options = dropbox.new_namespace(api_endpoint=dropbox.https_endpoint)
    root = options["root_path"]
    storages = _storages(dropbox.backend, EXAMPLE + "DropboxManifestStaticStorage", options,
                         {"root_path": f"{root}/media"}, {"root_path": f"{root}/static"})
    return SiteStorage("dropbox", f"Dropbox (the fake at {dropbox.https_endpoint})",
                       "media: HTTPS temporary links (the fake's throwaway CA); static: hashed names "
                       "under /static/, streamed by this site", storages, dropbox.https_endpoint,
                       served=("staticfiles",), environ={"REQUESTS_CA_BUNDLE": str(dropbox.ca_bundle)},
                       ca_bundle=dropbox.ca_bundle)


def _file_server(service: str, server: str, url_setting: str) -> Callable[[EmulatorSession], SiteStorage]:
    """FTP and SFTP: no web server of their own, so the site streams their files."""
    def configure_file_server(session: EmulatorSession) -> SiteStorage:
        emulator = session.get(service)
        options = emulator.new_namespace()
        root = options["location"].rstrip("/")
        static_class = f"{EXAMPLE}{service.upper()}ManifestStaticStorage"
        storages = _storages(emulator.backend, static_class, options,
                             {"location": f"{root}/media/", "base_url": "/media/"},
                             {"location": f"{root}/static/", "base_url": "/static/"})
        return SiteStorage(service, f"{service.upper()} ({server} at {emulator.endpoint})",
                           f"{url_setting} links to /media/ and /static/, which this site streams "
                           f"from {service.upper()}", storages, served=("default", "staticfiles"))

    return configure_file_server


def _libcloud(target: str, service: str, label: str,
              url_kind: str) -> Callable[[EmulatorSession], SiteStorage]:
    def configure_libcloud(session: EmulatorSession) -> SiteStorage:
        from emulators import libcloud

        factory = getattr(libcloud, f"{target}_target")
        backend, options = factory(session.get)
        storages = _storages(backend, EXAMPLE + "LibCloudManifestStaticStorage", options,
                             {"location": "media"}, {"location": "static"})
        emulator = session.get(service)
        return SiteStorage(f"libcloud-{target}", f"Apache Libcloud, {label} ({emulator.describe()})",
                           f"media: {url_kind}; static: hashed names under /static/, streamed by this site",
                           storages, emulator.endpoint if emulator.port else "", served=("staticfiles",))

    return configure_libcloud


_CONFIGURE: dict[str, Callable[[EmulatorSession], SiteStorage]] = {
    "s3": _s3,
    "gcs": _gcs,
    "azure": _azure,
    "dropbox": _dropbox,
    "ftp": _file_server("ftp", "pyftpdlib", "BASE_URL"),
    "sftp": _file_server("sftp", "the paramiko server", "SFTP_BASE_URL"),
    "libcloud-s3": _libcloud("s3", "s3", "its S3 driver", "presigned URLs from libcloud's S3 driver"),
    "libcloud-azure": _libcloud("azure", "azure", "its Azure driver",
                                "SAS URLs from libcloud's Azure driver"),
    "libcloud-local": _libcloud("local", "libcloud", "its local driver", "filesystem paths"),
}
