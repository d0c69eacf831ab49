"""Helpers shared by the benchmark scripts: figures, not pass/fail.

- ``serve(name)``: run an emulator in a separate process (so its memory does
  not count against the client's RSS) and get its OPTIONS/env.
- ``CountingProxy``: count HTTP requests per operation (``emulators.proxy``).
- ``peak_rss_growth(fn)``: peak resident-memory growth of this process while ``fn`` runs
  (``PeakRSS(processes)``: the same over a block, for any processes; ``HighWaterMark``:
  this process only, from the kernel's own peak, so no sampler costs CPU during a timing).
- ``median_seconds(fn, repeat)``, ``throughput_mb_s(nbytes, seconds)``.
- ``GeneratedStream(size)`` / ``Sink()``: a large source and a discarding
  destination that hold only one block in memory.
- What the ``bench_<name>.py`` scripts share: ``bench_parser``, ``setup_django``,
  ``interleaved_medians`` (ours and raw timed in alternation, no RSS sampler running),
  ``small_ops_vs_raw``, ``big_save_and_read``, the ``*_rows`` / ``*_vs_raw`` helpers that
  make the "ours / raw / ratio" rows, request counting (``RequestCounter``,
  ``warmed_storages``, ``count_small_saves``, ``count_metadata``) and ``emulator_start_seconds``.

The methodology: ours and raw run against the same emulator in the same run; throughput is
timed without the RSS sampler (it costs CPU) and peak RSS is measured in separate passes;
repeated timings are interleaved rounds, reported as medians. Exceptions are said in the
script: S3 times one large-file run per side, GCS keeps the best of its rounds, and the
libcloud script times its own save/read inside the RSS passes.
"""

from __future__ import annotations

import argparse
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

Row = tuple[str, Any]  # (label, figure), as print_rows prints it
Op = Callable[[], Any]

__all__ = [
    "MB", "CountingProxy", "GeneratedStream", "HighWaterMark", "PeakRSS", "RequestCounter", "Row", "Sink",
    "bench_parser",
    "big_save_and_read", "count_metadata", "count_small_saves", "drain", "emulator_start_rows",
    "emulator_start_seconds", "fill", "interleaved_medians", "median_seconds", "peak_rss_growth",
    "peak_rss_rows", "print_rows", "read_whole", "seconds_vs_raw", "serve", "setup_django",
    "small_ops_vs_raw", "throughput_mb_s", "throughput_vs_raw", "timed", "warmed_storages",
]


def bench_parser(doc: str | None, *, small: int | None = None, repeat: int | None = None,
                 repeat_help: str | None = None) -> argparse.ArgumentParser:
    """``--size-mb`` (default 500), and ``--small`` / ``--repeat`` where the script has them."""
    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--size-mb", type=int, default=500)
    if small is not None:
        parser.add_argument("--small", type=int, default=small)
    if repeat is not None:
        parser.add_argument("--repeat", type=int, default=repeat, help=repeat_help)
    return parser


def setup_django(**overrides: Any) -> None:
    """Configure Django once: ``USE_TZ=True`` plus ``overrides``."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(**{"USE_TZ": True, **overrides})
        import django

        django.setup()


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
            if line.startswith("READY"):  # it reported a failure instead of its description
                proc.terminate()
                raise RuntimeError(f"emulator {name} did not start: "
                                   f"{proc.stderr.read().strip() if proc.stderr else ''}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"emulator {name} did not start in {timeout}s")
        yield description
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class PeakRSS:
    """Peak resident-memory growth (MB, in ``.growth`` after the block) of ``processes``
    (default: this process), sampled every ``interval`` seconds while the block runs."""

    def __init__(self, processes: list[psutil.Process] | None = None, interval: float = 0.005) -> None:
        self._processes = processes if processes is not None else [psutil.Process()]
        self._interval = interval
        self.growth = 0.0

    def _rss(self) -> int:
        return sum(process.memory_info().rss for process in self._processes)

    def _sample(self) -> None:
        while not self._done.is_set():
            self._peak = max(self._peak, self._rss())
            time.sleep(self._interval)

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self._baseline = self._peak = self._rss()
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._sampler.join()
        self._peak = max(self._peak, self._rss())
        self.growth = (self._peak - self._baseline) / MB


class HighWaterMark:
    """Peak resident-memory growth (MB, in ``.growth`` after the block) of this process, read
    from the kernel's peak (``VmHWM``, reset on entry through ``/proc/self/clear_refs``): exact,
    and nothing runs meanwhile. Where Linux's reset is not available it falls back to
    :class:`PeakRSS` (a sampler thread)."""

    def __init__(self) -> None:
        self.growth = 0.0
        self._fallback: PeakRSS | None = None

    @staticmethod
    def _status_kb(field: str) -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise OSError(f"no {field} in /proc/self/status")

    def __enter__(self) -> HighWaterMark:
        gc.collect()
        try:
            with open("/proc/self/clear_refs", "w") as clear:
                clear.write("5")  # reset VmHWM to the current RSS
            self._baseline = self._status_kb("VmRSS")
        except OSError:
            self._fallback = PeakRSS().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fallback is not None:
            self._fallback.__exit__(*exc)
            self.growth = self._fallback.growth
        else:
            self.growth = (self._status_kb("VmHWM") - self._baseline) / 1024


def peak_rss_growth(fn: Callable[[], Any], interval: float = 0.005) -> tuple[float, Any]:
    """(peak RSS growth in MB while ``fn`` ran, fn's result)."""
    with PeakRSS(interval=interval) as rss:
        result = fn()
    return rss.growth, result


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def median_seconds(fn: Callable[[], Any], repeat: int = 5) -> float:
    return statistics.median(timed(fn)[0] for _ in range(repeat))


def throughput_mb_s(nbytes: int, seconds: float) -> float:
    return nbytes / MB / seconds if seconds else float("inf")


def interleaved_medians(fns: dict[str, Op], repeats: int) -> dict[str, float]:
    """Median wall seconds of each function over ``repeats`` rounds, each round calling every
    function once in the given order, so drift in the emulator (growing state, other load)
    hits every side alike. No RSS sampler runs meanwhile."""
    samples: dict[str, list[float]] = {label: [] for label in fns}
    for _ in range(repeats):
        for label, fn in fns.items():
            samples[label].append(timed(fn)[0])
    return {label: statistics.median(values) for label, values in samples.items()}


def seconds_vs_raw(what: str, ours: float, raw: float, raw_name: str, ratio: str) -> list[Row]:
    """Rows ``{what}: ours (s)``, ``{what}: raw {raw_name} (s)``, ``{ratio} ratio ours/raw``."""
    return [(f"{what}: ours (s)", ours), (f"{what}: raw {raw_name} (s)", raw),
            (f"{ratio} ratio ours/raw", ours / raw)]


def throughput_vs_raw(op: str, ours: float, raw: dict[str, float], ours_note: str = "") -> list[Row]:
    """Rows ``{op} MB/s: ours``, ``{op} MB/s: raw {name}`` for each raw way, then
    ``{op} ratio ours/raw`` (``ours/best raw``, against the fastest, when there are several)."""
    note = f" ({ours_note})" if ours_note else ""
    rows: list[Row] = [(f"{op} MB/s: ours{note}", ours)]
    rows += [(f"{op} MB/s: raw {name}", mb_s) for name, mb_s in raw.items()]
    against = "raw" if len(raw) == 1 else "best raw"
    return rows + [(f"{op} ratio ours/{against}", ours / max(raw.values()))]


def peak_rss_rows(size: int, growth: dict[str, float]) -> list[Row]:
    """Rows ``peak RSS growth, {what} {size in MB} MB (MB)``."""
    return [(f"peak RSS growth, {what} {size // MB} MB (MB)", mb) for what, mb in growth.items()]


def small_ops_vs_raw(count: int, storage: Any, raw_save: tuple[Callable[[int, bytes], Any], str],
                     raw_exists: tuple[Callable[[int], Any], str], prefix: str = "small/",
                     repeats: int = 5) -> list[Row]:
    """``count`` small saves, then ``count`` exists(), by ``storage`` (names ``{prefix}{i}.txt``) and
    by the raw SDK, interleaved (medians of ``repeats``). ``raw_save`` is (fn(i, body), the raw call's
    name), ``raw_exists`` is (fn(i), its name)."""
    from django.core.files.base import ContentFile

    payload = b"small file body " * 64

    def loop(fn: Callable[[int], Any]) -> Op:
        def run() -> None:
            for i in range(count):
                fn(i)

        return run

    medians = interleaved_medians({
        "ours saves": loop(lambda i: storage.save(f"{prefix}{i}.txt", ContentFile(payload))),
        "raw saves": loop(lambda i: raw_save[0](i, payload)),
        "ours exists": loop(lambda i: storage.exists(f"{prefix}{i}.txt")),
        "raw exists": loop(raw_exists[0]),
    }, repeats)
    return [
        *seconds_vs_raw(f"{count} small saves", medians["ours saves"], medians["raw saves"], raw_save[1],
                        "small saves"),
        *seconds_vs_raw(f"{count} exists()", medians["ours exists"], medians["raw exists"], raw_exists[1],
                        "exists"),
    ]


def big_save_and_read(storage: Any, size: int, name: str = "big.bin") -> tuple[Op, Op]:
    """(save, read): save ``size`` generated bytes as ``name``; read it back whole in 1 MB chunks."""
    from django.core.files.base import File

    def save() -> None:
        storage.save(name, File(GeneratedStream(size), name=name))

    def read() -> None:
        with storage.open(name, "rb") as f:
            assert drain(f, MB) == size

    return save, read


def read_whole(storage: Any, name: str) -> bytes:
    """Open ``name`` and read it with one ``read()``."""
    with storage.open(name) as f:
        return f.read()


class RequestCounter:
    """``count(label, fn)`` appends (label, requests the proxy saw while fn ran) to ``.rows``;
    ``before()``, if given, runs first, outside the count."""

    def __init__(self, proxy: CountingProxy, before: Op | None = None) -> None:
        self.proxy = proxy
        self.before = before
        self.rows: list[Row] = []

    def __call__(self, label: str, fn: Op) -> None:
        if self.before is not None:
            self.before()
        with self.proxy.counting() as counter:
            fn()
        self.rows.append((label, counter.count))


def warmed_storages(make: Callable[..., Any], *variants: dict[str, Any]) -> list[Any]:
    """``make(file_overwrite=True)``, ``make(file_overwrite=False)``, then ``make(**v)`` for each of
    ``variants``; the first saves ``warm.txt``, the others check it exists, so that every client
    is created outside the counts."""
    from django.core.files.base import ContentFile

    first, *others = [make(**kwargs) for kwargs in ({"file_overwrite": True}, {"file_overwrite": False},
                                                    *variants)]
    first.save("warm.txt", ContentFile(b"warm"))
    for storage in others:
        storage.exists("warm.txt")
    return [first, *others]


def count_small_saves(count: Callable[[str, Op], Any], on: Any, off: Any) -> None:
    """The three small-save rows of the requests tables: overwrite on; overwrite off with the
    name free; overwrite off with the name taken (the create-only failure, then Django's renaming)."""
    from django.core.files.base import ContentFile

    count("save small, overwrite on", lambda: on.save("small.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name free", lambda: off.save("free.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name taken", lambda: off.save("free.txt", ContentFile(b"y")))


def count_metadata(count: Callable[[str, Op], Any], storage: Any, name: str = "small.txt",
                   modified_time: bool = True) -> None:
    """The rows "exists", "size" and, if ``modified_time``, "get_modified_time" for ``name``."""
    count("exists", lambda: storage.exists(name))
    count("size", lambda: storage.size(name))
    if modified_time:
        count("get_modified_time", lambda: storage.get_modified_time(name))


def fill(put: Callable[[int], Any], n: int, threads: int = 16) -> None:
    """Call ``put(i)`` for i in range(n) on a thread pool (to set up listings)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, range(n)))


def emulator_start_seconds(cls: Callable[[], Any], repeat: int = 3,
                           each: Callable[[Any], Any] | None = None) -> float:
    """Median seconds of ``start()`` over ``repeat`` fresh in-process emulators; ``each(emulator)``
    runs on every started one, untimed, before it is stopped."""
    times = []
    for _ in range(repeat):
        emulator = cls()
        times.append(timed(emulator.start)[0])
        try:
            if each is not None:
                each(emulator)
        finally:
            emulator.stop()
    return statistics.median(times)


def emulator_start_rows(cls: Callable[[], Any], repeat: int = 3, label: str = "emulator start",
                        unit: str = "s") -> list[Row]:
    """The row ``{label}, median of {repeat} ({unit})``; unit "s" or "ms"."""
    seconds = emulator_start_seconds(cls, repeat)
    return [(f"{label}, median of {repeat} ({unit})", seconds * 1000 if unit == "ms" else seconds)]


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


def print_rows(title: str, rows: list[Row]) -> None:
    print(f"\n== {title} ==")
    width = max((len(label) for label, _ in rows), default=0)
    for label, value in rows:
        if isinstance(value, float):
            value = f"{value:.2f}"
        print(f"  {label:<{width}}  {value}")
