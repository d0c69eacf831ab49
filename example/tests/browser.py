"""Headless Chromium from the machine (Playwright's own browser download is not used).

``CHROMIUM`` names the executable; otherwise the usual names on PATH are tried.
A CA that pages must trust (the Dropbox fake's) goes into an NSS database under
a throwaway ``$HOME``, which is where Chromium on Linux reads user trust from.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = ("install Chromium and certutil (Debian: apt-get install chromium libnss3-tools), "
                "or set CHROMIUM=/path/to/chromium; `./dev e2e` does this itself when run as root")


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_required() -> bool:
    """``./dev e2e`` sets E2E_REQUIRE_BROWSER=1 where it could install the browser (root with apt):
    there a missing browser fails the run instead of skipping it."""
    return os.environ.get("E2E_REQUIRE_BROWSER", "") not in ("", "0")


def trusting_home(home: Path, ca_files: list[str]) -> Path:
    """Make ``home/.pki/nssdb`` trust exactly ``ca_files`` to issue server certificates."""
    if not ca_files:
        return home
    certutil = shutil.which("certutil")
    if certutil is None:
        raise FileNotFoundError(f"certutil is not installed (needed to trust {ca_files[0]}): {INSTALL_HINT}")
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True, exist_ok=True)
    subprocess.run([certutil, "-d", f"sql:{database}", "-N", "--empty-password"], check=True,
                   capture_output=True)
    for index, ca_file in enumerate(ca_files):
        subprocess.run([certutil, "-d", f"sql:{database}", "-A", "-t", "C,,", "-n", f"e2e-ca-{index}",
                        "-i", ca_file], check=True, capture_output=True)
    return home
