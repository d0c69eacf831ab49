"""Turning a storage name into a service key, refusing names that escape the root."""

from __future__ import annotations

import posixpath
import re
import uuid

from django.core.exceptions import SuspiciousFileOperation

#: Unicode's control characters (category Cc), as one regex: a name is checked on every call.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def clean_name(name: str) -> str:
    """Normalise a storage name to a relative POSIX path.

    Backslashes become ``/``, duplicate slashes and ``.`` segments go, a trailing
    slash is kept (it marks a directory). Refuses NUL and other control
    characters, absolute paths and any ``..`` segment with
    ``SuspiciousFileOperation``, exactly like Django's ``validate_file_name``.
    """
    if not isinstance(name, str):
        raise TypeError(f"storage names are str, not {type(name).__name__}")
    if _CONTROL.search(name):
        raise SuspiciousFileOperation(f"Refusing a name with a control character: {name!r}")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":" and posix[0].isalpha()):
        raise SuspiciousFileOperation(f"Refusing an absolute name: {name!r}")
    parts = [p for p in posix.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise SuspiciousFileOperation(f"Refusing a name that leaves the storage root: {name!r}")
    cleaned = "/".join(parts)
    if posix.endswith("/") and cleaned:
        cleaned += "/"
    return cleaned


def join_root(root: str, name: str) -> str:
    """The service key for ``name`` under ``root`` (a location/prefix, '' for none).

    The root is trusted configuration; only ``name`` is validated. The result has
    no leading slash unless the root has one (SFTP/FTP absolute roots).
    """
    cleaned = clean_name(name)
    if not root:
        return cleaned
    base = root.rstrip("/")
    if not cleaned:
        return base + "/" if base else root
    return f"{base}/{cleaned}"


def dir_prefix(key: str) -> str:
    """A listing prefix for a directory key: '' stays '', otherwise ends with '/'."""
    return key if not key or key.endswith("/") else key + "/"


def relative_to_root(root: str, key: str) -> str:
    """Inverse of :func:`join_root` for keys the service returns."""
    base = root.rstrip("/")
    if base and key.startswith(base + "/"):
        return key[len(base) + 1 :]
    return key


#: A hidden upload in progress: ``.storages-<32 hex>.part``.
_TEMP_NAME = re.compile(r"\.storages-[0-9a-f]{32}\.part")


def temp_name(key: str) -> str:
    """A fresh hidden name in the same directory as ``key``, for staging its upload.

    Backends that upload to a temporary name and rename it into place (FTP, SFTP,
    libcloud's local driver) all use this name, and hide it from listings with
    :func:`is_temp_name`.
    """
    return posixpath.join(posixpath.dirname(key), f".storages-{uuid.uuid4().hex}.part")


def is_temp_name(name: str) -> bool:
    """Whether the last segment of ``name`` is a name made by :func:`temp_name`."""
    return _TEMP_NAME.fullmatch(posixpath.basename(name)) is not None


def split_listing(prefix: str, keys: list[str], dirs: list[str]) -> tuple[list[str], list[str]]:
    """Turn keys and common prefixes under ``prefix`` into direct children names."""
    files = [k[len(prefix):] for k in keys if k.startswith(prefix) and k != prefix]
    files = [f for f in files if f and "/" not in f]
    subdirs = [posixpath.basename(d.rstrip("/")) for d in dirs if d.startswith(prefix)]
    return sorted(set(subdirs)), sorted(set(files))
