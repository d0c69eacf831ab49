"""The interpreter bench/compare.py runs django-storages 1.14.6 in: a virtualenv it creates
itself with pip (``.bench-venv-upstream/``, git-ignored), with the same SDK and Django
versions as this interpreter, reused while those stay the same."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_PATH = os.path.join(ROOT, ".bench-venv-upstream")
UPSTREAM = "django-storages==1.14.6"
#: Pinned to the versions installed here, so both sides run the same SDKs.
SAME_AS_OURS = (
    "Django", "boto3", "botocore", "s3transfer", "google-cloud-storage", "google-resumable-media",
    "google-auth", "azure-storage-blob", "azure-core", "dropbox", "paramiko", "apache-libcloud",
    "requests", "urllib3", "psutil",
)


class UpstreamUnavailable(RuntimeError):
    """The upstream interpreter could not be made; the message says why."""


def requirements() -> list[str]:
    pins = [UPSTREAM]
    for name in SAME_AS_OURS:
        try:
            pins.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            pins.append(name)
    return pins


def python_of(path: str) -> str:
    if os.name == "nt":
        return os.path.join(path, "Scripts", "python.exe")
    return os.path.join(path, "bin", "python")


def ensure(path: str = DEFAULT_PATH, log=sys.stderr) -> str:
    """The upstream venv's python, created or updated first if its requirements changed."""
    wanted = "\n".join(requirements()) + "\n"
    stamp = os.path.join(path, ".bench-requirements")
    python = python_of(path)
    if os.path.exists(stamp) and os.path.exists(python):
        with open(stamp) as f:
            if f.read() == wanted:
                return python
    try:
        if not os.path.exists(python):
            print(f"==> creating {os.path.relpath(path, ROOT)} for {UPSTREAM}", file=log)
            subprocess.run([sys.executable, "-m", "venv", path], check=True, capture_output=True, text=True)
        print(f"==> installing {UPSTREAM} and the same SDKs into {os.path.relpath(path, ROOT)}", file=log)
        subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        *wanted.split()], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or exc.stdout or "").strip().splitlines()[-3:]
        raise UpstreamUnavailable(f"could not create the upstream virtualenv at {path}: "
                                  f"{' / '.join(detail) or exc}") from exc
    except OSError as exc:
        raise UpstreamUnavailable(f"could not create the upstream virtualenv at {path}: {exc}") from exc
    with open(stamp, "w") as f:
        f.write(wanted)
    return python
