"""The example site as a child process (``python -m example BACKEND --json``), as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 180.0


class SiteUnavailable(RuntimeError):
    """The site could not start because its emulator cannot run here (the message says why)."""


class SiteProcess:
    """One example site; ``ready()`` waits for its JSON line, ``stop()`` sends SIGTERM."""

    def __init__(self, backend: str, log_dir: Path) -> None:
        self.backend = backend
        self.log_path = log_dir / f"site-{backend}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "example", backend, "--port", "0", "--json", "--quiet"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=self._log, stdin=subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self._line: dict[str, Any] | None = None
        self._signalled = False
        self._done = threading.Event()
        threading.Thread(target=self._read, name=f"site-{backend}", daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            try:
                self._line = json.loads(raw)
            except ValueError:
                continue
            break
        self._done.set()

    def ready(self, timeout: float = START_TIMEOUT) -> dict[str, Any]:
        """The site's JSON line (url, admin credentials, endpoint, ...), or an error saying why not."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"the {self.backend} site did not start in {timeout:.0f}s:\n{self.log_tail()}")
        line = self._line
        if line is None:
            raise RuntimeError(f"the {self.backend} site exited ({self.process.wait()}):\n{self.log_tail()}")
        if "error" in line:
            if line.get("kind") == "unavailable":
                raise SiteUnavailable(line["error"])
            raise RuntimeError(f"the {self.backend} site refused to start: {line['error']}")
        return line

    @property
    def started(self) -> bool:
        """Whether the site came up (printed its URL)."""
        return self._line is not None and "error" not in self._line

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def children(self) -> list[Any]:
        """The processes this site started (emulators that are programs), as ``psutil`` processes."""
        import psutil

        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def terminate(self) -> None:
        """Send SIGTERM once, without waiting (stop() waits), so many sites stop in parallel."""
        if self.process.poll() is None and not self._signalled:
            self._signalled = True
            self.process.terminate()

    def stop(self, timeout: float = 30.0) -> int:
        """Stop the site as a user would (one SIGTERM); kill it if it hangs. Returns its exit code."""
        self.terminate()
        if self.process.poll() is None:
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode
