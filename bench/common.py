"""Helpers shared by the benchmark scripts: figures, not pass/fail.

- ``serve(name)``: run an emulator in a separate process (so its memory does
  not count against the client's RSS) and get its OPTIONS/env.
- ``CountingProxy``: count HTTP requests per operation (``emulators.proxy``).
- ``peak_rss_growth(fn)``: peak resident-memory growth of this process while ``fn`` runs.
- ``median_seconds(fn, repeat)``, ``throughput_mb_s(nbytes, seconds)``.
- ``GeneratedStream(size)`` / ``Sink()``: a large source and a discarding
  destination that hold only one block in memory.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from typing import Any, Callable, Iterator

import psutil

from emulators.proxy import CountingProxy

MB = 1024 * 1024
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

__all__ = [
    "MB", "CountingProxy", "GeneratedStream", "Sink", "median_seconds", "peak_rss_growth",
    "print_rows", "serve", "throughput_mb_s", "timed",
]


@contextlib.contextmanager
def serve(name: str, timeout: float = 60) -> Iterator[dict[str, Any]]:
    """Start ``python -m emulators up NAME --json --no-smoke`` and yield its description:
    ``{"name", "backend", "options", "env", "endpoint", "host", "port"}``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulators", "up", name, "--json", "--no-smoke"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, text=True,
    )
    try:
        deadline = time.monotonic() + timeout
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"emulator {name} exited: {proc.stderr.read() if proc.stderr else ''}")
            line = line.strip()
            if line.startswith("{"):
                description = json.loads(line)
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"emulator {name} did not start in {timeout}s")
        yield description
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def peak_rss_growth(fn: Callable[[], Any], interval: float = 0.005) -> tuple[float, Any]:
    """(peak RSS growth in MB while ``fn`` ran, fn's result)."""
    gc.collect()
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, process.memory_info().rss)
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = fn()
    finally:
        done.set()
        sampler.join()
    peak = max(peak, process.memory_info().rss)
    return (peak - baseline) / MB, result


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_seconds(fn: Callable[[], Any], repeat: int = 5) -> float:
    return statistics.median(timed(fn)[0] for _ in range(repeat))


def throughput_mb_s(nbytes: int, seconds: float) -> float:
    return nbytes / MB / seconds if seconds else float("inf")


class GeneratedStream(io.RawIOBase):
    """``size`` deterministic bytes, produced block by block (never held whole)."""

    def __init__(self, size: int, block: int = MB) -> None:
        self.size = size
        self._pos = 0
        self._block = bytes((i * 31 + 7) % 251 for i in range(block))
        self.name = "generated.bin"

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, min(self.size, base + offset))
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self._pos)
        if n <= 0:
            return 0
        view = memoryview(buffer)
        filled = 0
        while filled < n:
            offset = (self._pos + filled) % len(self._block)
            take = min(n - filled, len(self._block) - offset)
            view[filled:filled + take] = self._block[offset:offset + take]
            filled += take
        self._pos += n
        return n


class Sink(io.RawIOBase):
    """A writable that keeps only a byte count."""

    def __init__(self) -> None:
        self.count = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        n = len(data)
        self.count += n
        return n


def drain(readable: Any, chunk: int = MB) -> int:
    """Read a file-like object to the end in chunks; return the byte count."""
    total = 0
    while True:
        data = readable.read(chunk)
        if not data:
            return total
        total += len(data)


def print_rows(title: str, rows: list[tuple[str, Any]]) -> None:
    print(f"\n== {title} ==")
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        if isinstance(value, float):
            value = f"{value:.2f}"
        print(f"  {label:<{width}}  {value}")
