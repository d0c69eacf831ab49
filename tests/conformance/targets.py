"""What the conformance suite knows about each target's service.

:func:`faults_for`: how to make it fail at the SDK level through its real emulator
(which names it refuses, how to point it at a dead port, which credential to
spoil); ``test_errors.py`` provokes each fault and checks what leaves the storage.
Emulators that accept any credentials (moto, fake-gcs-server) have no
refused-credentials fault; services without buckets (Dropbox, FTP, SFTP) have no
missing-bucket fault.

:func:`secrets_for`: options that configure every kind of secret the backend takes,
with the strings that must never leave it (``test_configuration.py``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Callable

from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation

from emulators.base import free_port, unique_name
from storages.core import ServiceUnavailable, StorageError

#: A secret no service knows: refused wherever it is used, and never shown.
CANARY = "Y2FuYXJ5LXNlY3JldC1uZXZlci1zaG93bg=="
ALL_CALLS = ("exists", "open", "size", "save", "listdir", "delete")


@dataclass(frozen=True)
class Fault:
    what: str
    options: dict[str, Any]  # overrides of the target's options
    expected: type[BaseException]
    calls: tuple[str, ...] = ALL_CALLS
    name: str = "fault/file.txt"
    secret: str | None = None  # a secret the fault configures; it must appear in no message


def _dead_port(text: str) -> str:
    """``text`` with the emulator's address moved to a port nothing listens on."""
    return re.sub(r"127\.0\.0\.1:(\d+)", f"127.0.0.1:{free_port()}", text)


def _provider(options: dict[str, Any], **changes: Any) -> dict[str, Any]:
    providers = copy.deepcopy(options["providers"])
    providers[options["provider_name"]].update(changes)
    return {"providers": providers}


def _missing(overrides: dict[str, Any]) -> Fault:
    return Fault("missing bucket/container", overrides, ImproperlyConfigured)


def _unreachable(overrides: dict[str, Any], calls: tuple[str, ...] = ALL_CALLS) -> Fault:
    return Fault("unreachable endpoint", overrides, ServiceUnavailable, calls=calls)


def _refused(overrides: dict[str, Any]) -> Fault:
    return Fault("refused credentials", overrides, PermissionError, secret=CANARY)


def _bad_name(name: str, expected: type[BaseException], calls: tuple[str, ...]) -> Fault:
    return Fault("a name the service refuses", {}, expected, calls=calls, name=name)


def s3(o: dict[str, Any]) -> list[Fault]:
    from botocore.config import Config

    one_try = Config(retries={"max_attempts": 1}, connect_timeout=2)
    return [
        _missing({"bucket_name": unique_name("missing")}),
        _unreachable({"endpoint_url": _dead_port(o["endpoint_url"]), "client_config": one_try}),
        Fault("parameters the SDK refuses (the generic exit)",
              {"object_parameters": {"NoSuchParameter": "x"}}, StorageError, calls=("save",)),
    ]


def gcs(o: dict[str, Any]) -> list[Fault]:
    return [
        _missing({"bucket_name": unique_name("missing")}),
        # Reads are one raw request; metadata calls go through the SDK's own two-minute retries.
        _unreachable({"emulator_host": _dead_port(o["emulator_host"])}, calls=("open",)),
    ]


def azure(o: dict[str, Any]) -> list[Fault]:
    spoiled = re.sub(r"AccountKey=[^;]*", f"AccountKey={CANARY}", o["connection_string"])
    return [
        _missing({"azure_container": unique_name("missing")}),
        _unreachable({"connection_string": _dead_port(o["connection_string"]),
                      "client_options": {"retry_total": 0}}),
        _refused({"connection_string": spoiled}),
        Fault("a container name the service refuses", {"azure_container": "Bad_Name"}, ImproperlyConfigured),
    ]


def dropbox(o: dict[str, Any]) -> list[Fault]:
    return [
        _unreachable({"api_endpoint": _dead_port(o["api_endpoint"])}),
        _refused({"oauth2_access_token": CANARY}),
        _bad_name("desktop.ini", SuspiciousFileOperation, calls=("save",)),
    ]


def ftp(o: dict[str, Any]) -> list[Fault]:
    return [
        _unreachable({"location": _dead_port(o["location"])}),
        _refused({"location": re.sub(r"://([^:]*):[^@]*@", rf"://\1:{CANARY}@", o["location"])}),
        _bad_name("x" * 300, SuspiciousFileOperation, calls=("save", "exists", "open")),
    ]


def sftp(o: dict[str, Any]) -> list[Fault]:
    return [
        _unreachable({"params": {**o["params"], "port": free_port()}}),
        _refused({"params": {**o["params"], "password": CANARY}}),
        # SFTP v3 has no status for a bad name: the server's answer is a bare "Failure".
        _bad_name("x" * 300, StorageError, calls=("save", "exists", "open")),
    ]


def libcloud_local(o: dict[str, Any]) -> list[Fault]:
    return [
        _missing(_provider(o, bucket=unique_name("missing"))),
        _bad_name("x" * 300, SuspiciousFileOperation, calls=("save", "open")),
    ]


def libcloud_s3(o: dict[str, Any]) -> list[Fault]:
    return [
        _missing(_provider(o, bucket=unique_name("missing"))),
        _unreachable(_provider(o, port=free_port())),
    ]


def libcloud_azure(o: dict[str, Any]) -> list[Fault]:
    return [
        _missing(_provider(o, bucket=unique_name("missing"))),
        _unreachable(_provider(o, port=free_port())),
        _refused(_provider(o, secret=CANARY)),
    ]


BY_TARGET: dict[str, Callable[[dict[str, Any]], list[Fault]]] = {
    "s3": s3, "gcs": gcs, "azure": azure, "dropbox": dropbox, "ftp": ftp, "sftp": sftp,
    "libcloud-local": libcloud_local, "libcloud-s3": libcloud_s3, "libcloud-azure": libcloud_azure,
}


def faults_for(target: str, options: dict[str, Any]) -> list[Fault]:
    """Every fault this suite knows how to provoke on ``target``."""
    return BY_TARGET[target](options)


def secrets_for(target: str, options: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Option overrides that set each kind of secret ``target`` takes, and the secret strings."""
    one, two, three = (f"{CANARY[:-2]}{i}{i}" for i in "123")
    if target == "s3":
        return {"access_key": "AKIDCANARYNEVERSHOWN", "secret_key": one, "security_token": two}, \
            ["AKIDCANARYNEVERSHOWN", one, two]
    if target == "gcs":
        from emulators.gcs import service_account_info

        info = service_account_info()
        body = info["private_key"].splitlines()[5]  # a line from the middle of the PEM
        return {"credentials": info}, [body]
    if target == "azure":
        spoiled = re.sub(r"AccountKey=[^;]*", f"AccountKey={one}", options["connection_string"])
        return {"connection_string": spoiled, "sas_token": two}, [one, two]
    if target == "dropbox":
        tokens = {"oauth2_access_token": one, "app_secret": two, "oauth2_refresh_token": three}
        return tokens, [one, two, three]
    if target == "ftp":
        return {"location": re.sub(r"://([^:]*):[^@]*@", rf"://\1:{one}@", options["location"])}, [one]
    if target == "sftp":
        return {"params": {**options["params"], "password": one, "passphrase": two}}, [one, two]
    if target == "libcloud-local":  # its key is the base path, not a secret
        return _provider(options, secret=one), [one]
    if target == "libcloud-azure":  # its key is the account name, in every URL
        return _provider(options, secret=one), [one]
    return _provider(options, key="AKIDLIBCLOUDCANARY", secret=one), ["AKIDLIBCLOUDCANARY", one]
