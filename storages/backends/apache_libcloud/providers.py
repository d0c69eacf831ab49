"""Reading ``LIBCLOUD_PROVIDERS`` entries: driver types (the seed's old constants
included), driver families, and which fields hold credentials."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

PROVIDER_PATH = "libcloud.storage.types.Provider."
#: The seed's per-region S3 constants, gone in libcloud 2+: Provider.S3 with a region.
SEED_S3_CONSTANTS = {
    "S3_US_STANDARD_HOST": "us-east-1", "S3_US_WEST_HOST": "us-west-1",
    "S3_US_WEST_OREGON_HOST": "us-west-2", "S3_EU_WEST_HOST": "eu-west-1",
    "S3_AP_SOUTHEAST_HOST": "ap-southeast-1", "S3_AP_NORTHEAST_HOST": "ap-northeast-1",
}
#: The seed's Rackspace constants (and its CLOUDFIULES spelling): Provider.CLOUDFILES with a region.
SEED_CLOUDFILES_CONSTANTS = {"CLOUDFILES_US": "ord", "CLOUDFIULES_US": "ord",
                             "CLOUDFILES_UK": "lon", "CLOUDFIULES_UK": "lon"}
#: Provider fields that are ours, not driver keyword arguments.
OWN_FIELDS = {"type", "user", "key", "secret", "bucket", "container"}


@dataclass
class Provider:
    """One resolved ``LIBCLOUD_PROVIDERS`` entry."""

    name: str
    label: str  # the type as configured, for messages
    driver_cls: type
    family: str  # local, s3, azure or other
    key: Any
    secret: Any
    bucket: str
    kwargs: dict[str, Any] = field(default_factory=dict)


def resolve_type(value: Any) -> tuple[str, dict[str, Any]]:
    """A ``Provider`` constant and implied driver kwargs for a configured ``type``."""
    from libcloud.storage.types import Provider as P

    if not isinstance(value, str) or not value:
        raise ImproperlyConfigured(f"A libcloud provider 'type' must be a Provider constant, not {value!r}")
    name = value[len(PROVIDER_PATH):] if value.startswith(PROVIDER_PATH) else value
    legacy = name.upper()
    for table, target in ((SEED_S3_CONSTANTS, P.S3), (SEED_CLOUDFILES_CONSTANTS, P.CLOUDFILES)):
        if legacy in table:
            warnings.warn(
                f"libcloud provider type {value!r} no longer exists in apache-libcloud 2+; it now means "
                f"Provider.{target.upper()} with region {table[legacy]!r}. Write "
                f"'type': '{PROVIDER_PATH}{target.upper()}', 'region': {table[legacy]!r}.",
                DeprecationWarning, stacklevel=5)
            return target, {"region": table[legacy]}
    constants = {k: v for k, v in vars(P).items() if k.isupper() and isinstance(v, str)}
    if name in constants:
        return constants[name], {}
    if name in constants.values():
        return name, {}
    raise ImproperlyConfigured(
        f"Unknown libcloud provider type {value!r}: use one of libcloud.storage.types.Provider's "
        f"constants, e.g. '{PROVIDER_PATH}S3' or '{PROVIDER_PATH}LOCAL'")


def driver_family(cls: type) -> str:
    from libcloud.storage.drivers.azure_blobs import AzureBlobsStorageDriver
    from libcloud.storage.drivers.s3 import BaseS3StorageDriver

    if cls.__module__ == "libcloud.storage.drivers.local":
        return "local"
    if issubclass(cls, AzureBlobsStorageDriver):
        return "azure"
    return "s3" if issubclass(cls, BaseS3StorageDriver) else "other"


def secret_fields(conf: dict[str, Any]) -> set[str]:
    """The fields of a provider entry that hold credentials (the local driver's key is a path)."""
    local = str(conf.get("type", "")).upper().endswith("LOCAL")
    return {"user", "secret", "token", "password"} | (set() if local else {"key"})


def scrub(providers: Any) -> Any:
    """``LIBCLOUD_PROVIDERS`` without credentials (for pickles and ``option_values()``)."""
    if not isinstance(providers, dict):
        return providers
    return {name: {k: v for k, v in conf.items() if k not in secret_fields(conf)}
            if isinstance(conf, dict) else conf for name, conf in providers.items()}
