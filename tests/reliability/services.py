"""What the reliability matrix knows about each target: which service it talks to, what that
service calls a write, a part and a read, the small timeouts and part sizes that keep the
matrix fast, and how to look at everything the service holds (temporary and unfinished
uploads included) past the storage under test."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from storages.core import is_temp_name

#: target -> the emulated service its calls reach (libcloud-local reaches none: a directory).
SERVICE = {"s3": "s3", "gcs": "gcs", "azure": "azure", "dropbox": "dropbox", "ftp": "ftp", "sftp": "sftp",
           "libcloud-local": None, "libcloud-s3": "s3", "libcloud-azure": "azure"}
#: The client's timeout in the matrix (seconds), and a stall that outlasts it.
TIMEOUT = 0.5
STALL = 1.2
#: Bytes per part where the matrix sets the part size.
PART = 256 * 1024
S3_PART = 5 * 1024 * 1024  # S3's smallest part
LIBCLOUD_AZURE_BLOCK = 4 * 1024 * 1024  # libcloud's Azure driver cuts its own blocks


@dataclass(frozen=True)
class Service:
    """One service's words for the calls the matrix disturbs."""

    write: str  # the call that stores a small file
    part: str  # a call that moves one part of a larger file
    read: str  # the call that moves a file's bytes to the client
    busy: dict[str, Any]  # the fault options of "the service is throttling you"
    unavailable: dict[str, Any]  # a 5xx (or the protocol's "try again later")


#: Targets whose writes carry no digest the service checks, and whose reads get none to check
#: (storages.core.checksums): a byte damaged on the way is not seen. Why, per target.
NO_CHECKSUMS = {
    "ftp": "FTP carries no digest of a transfer (FTPS: TLS protects the bytes on the wire)",
    "sftp": "SFTP carries no digest of a file; SSH's MAC protects the bytes on the wire",
    **dict.fromkeys(("libcloud-s3", "libcloud-azure"), "libcloud's drivers send no digest the service checks "
                    "(its S3 driver compares the ETag only once the object is stored) and check none on a "
                    "download"),
}

SERVICES = {
    "s3": Service("put", "upload_part", "get", {"status": 503, "code": "SlowDown"}, {"status": 503}),
    "gcs": Service("put", "upload_part", "get", {"status": 429}, {"status": 503}),
    "azure": Service("put", "upload_part", "get", {"status": 503, "code": "ServerBusy"}, {"status": 503}),
    "dropbox": Service("put", "upload_part", "get", {"status": 429}, {"status": 503}),
    # FTP: "421 too many users" at login is how a busy server turns clients away; 451 is
    # "local error in processing", the transient failure of one transfer.
    "ftp": Service("stor", "stor", "retr", {"status": 421}, {"status": 451}),
    # SFTP has no status for "busy": a server over its MaxStartups drops the connection.
    "sftp": Service("write", "write", "read", {"reset_before": 0}, {"status": 4}),
}


def small_options(target: str, options: dict[str, Any]) -> dict[str, Any]:
    """Option overrides that give the target short timeouts (and, where an option sets it,
    small parts): the backend's defaults otherwise."""
    if target == "s3":
        from botocore.config import Config

        return {"client_config": Config(connect_timeout=TIMEOUT, read_timeout=TIMEOUT)}
    if target == "azure":
        # The SDK's retries, with pauses of a tenth of a second instead of 15 s and more
        # (its pause before retry N is initial_backoff + increment_base ** N).
        return {"max_memory_size": PART, "client_options": {
            "read_timeout": TIMEOUT, "initial_backoff": 0.05, "increment_base": 0.1,
            "random_jitter_range": 0.05}}
    if target == "dropbox":
        return {"timeout": TIMEOUT}
    if target == "ftp":
        return {"timeout": TIMEOUT}
    if target == "sftp":
        return {"params": {**options["params"], "timeout": TIMEOUT}}
    if target == "gcs":
        return {"blob_chunk_size": PART}
    if target.startswith("libcloud-") and target != "libcloud-local":
        providers = {name: {**entry, "timeout": TIMEOUT} for name, entry in options["providers"].items()}
        return {"providers": providers}
    return {}


def tune(target: str, storage: Any) -> Any:
    """Settings that are attributes rather than options: part sizes, GCS's request timeout."""
    if target in ("dropbox", "ftp", "sftp"):
        storage.part_size = PART
    if target == "gcs":
        storage.timeout = TIMEOUT
    return storage


def part_size(target: str) -> int:
    if target == "libcloud-azure":
        return LIBCLOUD_AZURE_BLOCK
    return S3_PART if target in ("s3", "libcloud-s3") else PART


# -- looking past the storage -------------------------------------------------------------------

@dataclass
class Holdings:
    """Everything a namespace holds: object keys (temporary names included) and unfinished
    multipart uploads (S3)."""

    keys: list[str]
    pending: list[str]
    read: Callable[[str], bytes]

    def leftovers(self, name: str) -> list[str]:
        """What a failed write of ``name`` left: the object itself, temporary files, uploads."""
        return [key for key in self.keys if key.endswith(name) or is_temp_name(key)] + self.pending


def holdings(target: str, options: dict[str, Any], emulator: Callable[[str], Any]) -> Holdings:
    """What the target's namespace holds, seen straight from the service."""
    if target in ("s3", "libcloud-s3"):
        bucket = options["bucket_name"] if target == "s3" else _provider(options)["bucket"]
        client = emulator("s3").client(direct=True)
        keys = [o["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                for o in page.get("Contents", ())]
        pending = [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", ())]
        return Holdings(keys, pending,
                        lambda key: client.get_object(Bucket=bucket, Key=key)["Body"].read())
    if target == "libcloud-azure":
        namespace = emulator("azure").namespace({"azure_container": _provider(options)["bucket"]})
    elif target == "libcloud-local":
        provider = _provider(options)
        root = Path(provider["key"]) / provider["bucket"]
        keys = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()]
        return Holdings(keys, [], lambda key: (root / key).read_bytes())
    elif target == "ftp":
        ftp = emulator("ftp")
        return _tree(ftp.root_dir / ftp.namespace(options).root.lstrip("/"))
    elif target == "sftp":
        sftp = emulator("sftp")
        return _tree(sftp.local_path(options["location"]))
    else:
        namespace = emulator(target).namespace(options)
    keys = namespace.keys()
    return Holdings(keys, [], namespace.read)


def _tree(root: Path) -> Holdings:
    keys = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()] if root.exists() else []
    return Holdings(keys, [], lambda key: (root / key).read_bytes())


def _provider(options: dict[str, Any]) -> dict[str, Any]:
    return options["providers"][options.get("provider_name", "default")]
