"""Head to head: our storages vs django-storages 1.14.6 vs the raw SDK, on the same emulator.

Run: ``python bench/compare.py`` (or ``./dev bench compare``); a quick look:
``python bench/compare.py --backends s3 --quick``. Options pick backends, operations and sizes
(``--help``); ``--json FILE`` writes the rows ``{backend, operation, unit, ours, upstream, raw}``.

How it measures (figures, not pass/fail):

- Every backend's emulator runs in its own process (``python -m emulators up NAME``), and each
  side in its own interpreter: ours and raw from ``.venv``, upstream from ``.bench-venv-upstream``,
  a virtualenv this script creates with pip (django-storages==1.14.6 and the same SDK versions).
- Sides alternate within each round (ours, upstream, raw, then upstream, raw, ours, ...: the
  order rotates, so that no side always runs right after the same other one),
  against the same emulator process and the same objects; figures are medians over the rounds
  (``--rounds``, at least 5 for the small operations, ``--rounds-big``, at least 3, for the
  large ones and collectstatic).
- 100 MiB save (from a file on disk) and read (streamed in 1 MiB reads): each run in a fresh
  interpreter; throughput and peak RSS growth come from the same run (RSS from the kernel's
  high-water mark, so no sampler competes with the transfer).
- Small operations: ``--small`` saves of 1 KiB with overwriting on (the same names every round,
  so each save replaces an object) and off (fresh names every round); ``--meta`` exists(),
  size() and open+read() of 1 KiB objects; listdir of ``--list`` objects; collectstatic of
  ``--static`` files through ManifestFilesMixin on the backend's storage (S3's
  S3ManifestStaticStorage), into a fresh bucket/folder every round, default settings.
- Checksums: where ours sends the service's digest with writes and verifies reads (S3, GCS,
  Azure, Dropbox), the same rounds of the large transfers also time ours with
  ``checksums = False`` and the raw SDK doing ours' check (where its plain route does not check
  already: the cell says so), so a gap a check makes is measured in the same run. A backend
  may name one more way to run ours (``Backend.variant``: SFTP with a 1 MiB write window).
- ``exists()`` of a missing name: what collectstatic asks twice per new file; ours then also
  lists the name as a folder prefix where the service has no folders (directories rule,
  ``storages.core.base``), and the same rounds time the raw SDK making both requests.
- Requests per operation: HTTP requests counted by ``emulators.proxy.CountingProxy``; for FTP
  and SFTP the commands / protocol requests each side's client sends.

In the table, a ratio is how ours compares with the other side, higher is better for ours:
throughput ours/x; times, memory and requests x/ours. ``noise`` is the largest round-to-round
spread of the sides (half the range of a side's rounds over their median): a ratio within
``1 ± noise`` is no difference the run can tell. The CPU columns compare the CPU time of
each side's own process for the same runs (x/ours): steadier than wall time on a busy machine,
they tell our code's cost apart from the emulator's and the scheduler's. ``-`` marks a cell that
cannot be measured; the reasons follow the table.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable

import psutil

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common, upstream_venv
from bench.common import MB
from bench.progress import Progress
from bench.sides import BACKENDS, PAYLOAD, Backend

FLAVOURS = ("ours", "upstream", "raw")
OPERATIONS = ("save_big", "read_big", "save_on", "save_off", "exists", "missing", "size", "read_small",
              "listdir", "collectstatic", "requests")
HIGHER_IS_BETTER = {"MB/s"}
JOB_TIMEOUT = 1800.0
#: A large save or read still running after this is reported as too slow, not waited for.
BIG_JOB_TIMEOUT = 300.0


@dataclass
class Row:
    backend: str
    operation: str
    unit: str
    values: dict[str, float | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    #: Median CPU seconds of each side's own process over the timed runs (client work only).
    cpu: dict[str, float] = field(default_factory=dict)
    #: Each side's round-to-round spread: half the range of its rounds' figures over their
    #: median (0.05: the rounds lay within ±5% of the median).
    spread: dict[str, float] = field(default_factory=dict)

    @property
    def noise(self) -> float | None:
        """The largest spread of the sides: a ratio within ``1 ± noise`` is no measured difference."""
        return max(self.spread.values()) if self.spread else None

    def ratio(self, other: str) -> float | None:
        ours, theirs = self.values.get("ours"), self.values.get(other)
        if ours is None or theirs is None:
            return None
        if self.unit in HIGHER_IS_BETTER:
            return ours / theirs if theirs else None
        return theirs / ours if ours else None

    def cpu_ratio(self, other: str) -> float | None:
        """Their client CPU / ours: above 1, our side spends less CPU on the same work."""
        ours, theirs = self.cpu.get("ours"), self.cpu.get(other)
        return theirs / ours if ours and theirs is not None else None

    def as_json(self) -> dict[str, Any]:
        row: dict[str, Any] = {"backend": self.backend, "operation": self.operation, "unit": self.unit,
                               **{flavour: self.values.get(flavour) for flavour in FLAVOURS}}
        if self.cpu:
            row["client_cpu_s"] = self.cpu
        if self.spread:
            row["spread"] = self.spread
        if self.notes:
            row["notes"] = self.notes
        return row


class WorkerError(RuntimeError):
    pass


class SideProcess:
    """One side's interpreter running bench/compare_worker.py; ``call(job, **args)`` answers a dict."""

    def __init__(self, python: str, backend: str, flavour: str, spec: dict[str, Any], logdir: str) -> None:
        self.flavour = flavour
        self.log_path = os.path.join(logdir, f"{backend}-{flavour}.log")
        self._log = open(self.log_path, "ab")
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
        self.proc = subprocess.Popen(
            [python, os.path.join(common.ROOT, "bench", "compare_worker.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, cwd=common.ROOT, env=env,
            text=True)
        self.setup_error: str | None = None
        ready = self._send({"backend": backend, "flavour": flavour, "spec": spec}, timeout=300)
        if "error" in ready:
            self.setup_error = ready["error"]

    def _log_tail(self) -> str:
        try:
            with open(self.log_path, "rb") as f:
                lines = f.read().decode(errors="replace").strip().splitlines()
            return " | ".join(lines[-3:])
        except OSError:
            return ""

    def _send(self, message: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(message) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise WorkerError(f"{self.flavour} worker exited: {self._log_tail()}") from None
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            if not selector.select(timeout):
                self.close()
                raise WorkerError(f"{self.flavour} worker gave no answer in {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerError(f"{self.flavour} worker exited: {self._log_tail()}")
        return json.loads(line)

    def call(self, job: str, counted: bool = False, timeout: float = JOB_TIMEOUT, profile: str | None = None,
             protocol: bool = False, **args: Any) -> dict[str, Any]:
        if self.setup_error:
            return {"error": self.setup_error}
        if self.proc.poll() is not None:
            return {"error": f"worker exited: {self._log_tail()}"}
        message = {"job": job, "args": args, "counted": counted, "profile": profile, "protocol": protocol}
        try:
            return self._send(message, timeout)
        except WorkerError as exc:
            return {"error": str(exc)}

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps({"job": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired, OSError):
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class Failed:
    """An answer that is not a figure: why the cell is not measurable."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def outcome(answer: dict[str, Any]) -> dict[str, Any] | Failed:
    if "not_measurable" in answer:
        return Failed(answer["not_measurable"])
    if "error" in answer:
        return Failed(f"failed: {answer['error']}")
    return answer


@dataclass
class Settings:
    size: int
    small: int
    meta: int
    listing: int
    static: int
    rounds: int
    rounds_big: int
    operations: tuple[str, ...]
    profile_dir: str | None = None


def explaining_flavours(backend: type[Backend], direction: str) -> list[str]:
    """The sides timed in the rounds of a large transfer (``direction``: "save" or "read") to
    tell a gap apart: the backend's variant of ours, and where ours checks digests, ours with
    checksums off and the raw SDK doing ours' check (only where its plain route does not)."""
    extra = []
    if backend.variant and direction in backend.variant[2]:
        extra.append("variant")
    if backend.checks:
        extra.append("unchecked")
        if direction not in backend.raw_check_reasons:
            extra.append("checked")
    return extra


class BackendRun:
    """Everything measured for one backend, on one emulator process."""

    def __init__(self, name: str, pythons: dict[str, str | Failed], settings: Settings, workdir: str,
                 source: str, progress: Progress) -> None:
        self.name = name
        self.backend_cls = BACKENDS[name]
        self.pythons = pythons
        self.settings = settings
        self.workdir = workdir
        self.source = source
        self.progress = progress
        self.rows: list[Row] = []

    # -- plumbing ----------------------------------------------------------------------------------
    def flavours(self) -> list[str]:
        return list(FLAVOURS)

    def python(self, flavour: str) -> str | Failed:
        return self.pythons["upstream" if flavour == "upstream" else "ours"]

    def spawn(self, flavour: str) -> SideProcess | Failed:
        python = self.python(flavour)
        if isinstance(python, Failed):
            return python
        return SideProcess(python, self.name, flavour, self.spec, self.workdir)

    def step(self, label: str) -> None:
        self.progress.step(f"{self.name}: {label}")

    def profile_path(self, flavour: str, job: str, round_: int) -> str | None:
        """Where ``--profile DIR`` puts this run's cProfile dump (None: not profiling)."""
        directory = self.settings.profile_dir
        if not directory:
            return None
        os.makedirs(directory, exist_ok=True)
        return os.path.join(directory, f"{self.name}-{job}-{flavour}-{round_ + 1}.prof")

    def add(self, operation: str, unit: str, results: dict[str, Any], value: Callable[[list[dict]], float],
            cpu: bool = True) -> None:
        """A row from each side's list of answers (or Failed): the figure is ``value(answers)``;
        with ``cpu``, also the median client CPU of the answers that carry one."""
        row = Row(self.name, operation, unit)
        for flavour in self.flavours():
            result = results.get(flavour)
            if isinstance(result, Failed):
                row.values[flavour] = None
                row.notes[flavour] = result.reason
            elif result:
                row.values[flavour] = value(result)
                each = [value([r]) for r in result]
                middle = statistics.median(each)
                if len(each) > 1 and middle:
                    row.spread[flavour] = (max(each) - min(each)) / 2 / abs(middle)
                if cpu and all("cpu" in r for r in result):
                    row.cpu[flavour] = statistics.median(r["cpu"] for r in result)
                notes = {r.get("value") for r in result if isinstance(r.get("value"), str)}
                if notes:
                    row.notes[flavour] = "; ".join(sorted(notes))
            else:
                row.values[flavour] = None
        self.rows.append(row)

    def rounds(self, runs: int, measure: Callable[[str, int], dict[str, Any] | Failed],
               flavours: list[str] | None = None, label: str = "") -> dict[str, list | Failed]:
        """``runs`` rounds, sides alternating in each; the order rotates every round (ours, upstream,
        raw; then upstream, raw, ours; ...), so that no side always follows the same one (and the
        emulator's clean-up after it). A side that fails once is out (with the reason)."""
        order = list(flavours or self.flavours())
        results: dict[str, list | Failed] = {flavour: [] for flavour in order}
        for round_ in range(runs):
            shift = round_ % len(order)
            for flavour in order[shift:] + order[:shift]:
                if isinstance(results[flavour], Failed):
                    continue
                self.step(f"{label} [{flavour}] {round_ + 1}/{runs}")
                answer = measure(flavour, round_)
                if isinstance(answer, Failed):
                    results[flavour] = answer
                else:
                    results[flavour].append(answer)  # type: ignore[union-attr]
        return results

    # -- the run -----------------------------------------------------------------------------------
    def run(self) -> list[Row]:
        s = self.settings
        emulator = self.backend_cls.emulator
        self.step("starting the emulator")
        with common.serve(emulator) as described:
            self.spec = {**described, "bench": {"static_dir": os.path.join(self.workdir, "static")}}
            self.emulator_processes = emulator_processes()
            backend = self.backend_cls(self.spec)
            self.raw = backend.raw(described["endpoint"])
            proxy = None
            if backend.http:
                proxy = common.CountingProxy(described["host"], described["port"]).start()
            try:
                if proxy is not None:
                    self.spec["bench"]["proxy"] = proxy.endpoint
                self.prepare()
                ops = s.operations
                if "save_big" in ops:
                    self.big_save()
                if "read_big" in ops:
                    self.big_read()
                self.small_operations()
                if "requests" in ops:
                    self.requests(proxy)
                if "collectstatic" in ops:  # last: on FTP it leaves thousands of ports in TIME_WAIT
                    self.collectstatic()
            finally:
                if proxy is not None:
                    proxy.stop()
        return self.rows

    def prepare(self) -> None:
        """The objects every side reads: 1 KiB ``meta-<i>.txt``, the listing, the big file,
        and the overwrite-on names (so every timed save replaces an object)."""
        s = self.settings
        self.step("creating the objects the sides read")
        raw = self.raw
        for ns in ("main", "list"):
            raw.create(ns)
        count = max(s.meta, s.small)
        common.fill(lambda i: raw.put("main", f"meta-{i}.txt", PAYLOAD, True), s.meta, raw.fill_threads)
        for flavour in FLAVOURS:
            common.fill(lambda i, f=flavour: raw.put("main", f"{f}-on-{i}.txt", PAYLOAD, True), count,
                        raw.fill_threads)
        common.fill(lambda i: raw.put("list", f"k{i:05d}.txt", b"", True), s.listing, raw.fill_threads)
        if "read_big" in s.operations:
            raw.put_file("main", "big-read.bin", self.source)

    def one_shot(self, flavour: str, job: str, round_: int, before: Callable[[], Any] | None = None,
                 **args: Any) -> dict[str, Any] | Failed:
        """``job`` in a fresh interpreter (warmed on a small object first)."""
        if before is not None:
            before()
        side = self.spawn(flavour)
        if isinstance(side, Failed):
            return side
        try:
            warm = outcome(side.call("warm", ns="main", name="meta-0.txt"))
            if isinstance(warm, Failed):
                return warm
            emulator_cpu = self.emulator_cpu()
            answer = outcome(side.call(job, timeout=BIG_JOB_TIMEOUT,
                                       profile=self.profile_path(flavour, job, round_), **args))
            if not isinstance(answer, Failed):
                answer["emulator_cpu"] = self.emulator_cpu() - emulator_cpu
            if isinstance(answer, Failed) and "gave no answer" in answer.reason:
                floor = self.settings.size / MB / BIG_JOB_TIMEOUT
                answer = Failed(f"did not finish in {BIG_JOB_TIMEOUT:.0f} s (under {floor:.2f} MB/s); "
                                "not waited for")
            return answer
        finally:
            side.close()

    def big_save(self) -> None:
        s = self.settings
        label = f"save {s.size // MB} MiB from disk"

        def measure(flavour: str, round_: int) -> dict[str, Any] | Failed:
            name = f"big-{flavour}.bin"
            return self.one_shot(flavour, "put_file", round_, before=lambda: self.raw.delete("main", name),
                                 ns="main", name=name, path=self.source)

        self.add_big(label, self.rounds(s.rounds_big, measure, self.big_flavours("save"), label=label),
                     "save")

    def big_flavours(self, direction: str) -> list[str]:
        """The sides of a large transfer: the three, and those that explain a gap."""
        return [*self.flavours(), *explaining_flavours(self.backend_cls, direction)]

    def add_big(self, label: str, results: dict[str, Any], direction: str) -> None:
        """Throughput (MB/s of the median time; the client CPU ratio beside it), the median peak RSS
        growth, and the CPU time of the emulator's processes (CPU is steadier than wall time when
        the machine is busy: it shows whose work differs). Where ours checks digests, two rows
        more from the same rounds: ours with checksums off against the same upstream and raw
        runs, and ours against the raw SDK doing ours' check."""
        size = self.settings.size / MB

        def throughput(rs: list[dict]) -> float:
            return size / statistics.median(r["seconds"] for r in rs)

        self.add(label, "MB/s", results, throughput)
        for key, what, unit in (("rss_mb", "peak RSS growth", "MB"),
                                ("emulator_cpu", "emulator CPU", "CPU s")):
            self.add(f"{label}: {what}", unit, results, lambda rs, k=key: statistics.median(r[k] for r in rs),
                     cpu=False)
        if "variant" in results:
            what = f"{label}: {self.backend_cls.variant[0]}"  # type: ignore[index]
            self.add(what, "MB/s", {**results, "ours": results["variant"]}, throughput)
            self.add(f"{what}: emulator CPU", "CPU s", {**results, "ours": results["variant"]},
                     lambda rs: statistics.median(r["emulator_cpu"] for r in rs), cpu=False)
        if "unchecked" in results:
            self.add(f"{label}: ours with checksums off", "MB/s",
                     {**results, "ours": results["unchecked"]}, throughput)
            reason = self.backend_cls.raw_check_reasons.get(direction)
            self.add(f"{label}: raw SDK doing ours' check", "MB/s",
                     {"ours": results["ours"], "raw": Failed(reason) if reason else results.get("checked")},
                     throughput)

    def emulator_cpu(self) -> float:
        """CPU seconds used so far by the emulator's processes (``python -m emulators up`` and its
        children, e.g. Azurite's node or fake-gcs-server)."""
        total = 0.0
        for proc in self.emulator_processes:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def big_read(self) -> None:
        s = self.settings
        label = f"read {s.size // MB} MiB (1 MiB reads)"

        def measure(flavour: str, round_: int) -> dict[str, Any] | Failed:
            return self.one_shot(flavour, "read_big", round_, ns="main", name="big-read.bin", size=s.size)

        self.add_big(label, self.rounds(s.rounds_big, measure, self.big_flavours("read"), label=label),
                     "read")

    def small_operations(self) -> None:
        s = self.settings
        wanted = [op for op in ("save_on", "save_off", "exists", "missing", "size", "read_small", "listdir")
                  if op in s.operations]
        if not wanted:
            return
        sides: dict[str, SideProcess | Failed] = {f: self.spawn(f) for f in FLAVOURS}
        try:
            for flavour, side in sides.items():
                if isinstance(side, SideProcess):  # connect both namespaces' storages first
                    warm = outcome(side.call("warm", ns="main", name="meta-0.txt"))
                    if not isinstance(warm, Failed) and "listdir" in wanted:
                        warm = outcome(side.call("warm", ns="list", name="k00000.txt"))
                    if isinstance(warm, Failed):
                        side.close()
                        sides[flavour] = warm

            def job(name: str, **args: Any) -> Callable[[str, int], dict[str, Any] | Failed]:
                def measure(flavour: str, round_: int) -> dict[str, Any] | Failed:
                    side, called = sides["raw" if flavour == "folders" else flavour], name
                    if isinstance(side, Failed):
                        return side
                    if flavour == "folders":  # the raw SDK doing what ours' exists() does
                        called = "missing_or_folder_many"
                    resolved = {k: v(flavour, round_) if callable(v) else v for k, v in args.items()}
                    profile = self.profile_path(flavour, f"{called}-{resolved.get('prefix', '')}", round_)
                    return outcome(side.call(called, profile=profile, **resolved))
                return measure

            per_op = {
                "save_on": (f"{s.small} saves of 1 KiB, overwrite on", s.small,
                            job("put_many", ns="main", prefix=lambda f, r: f"{f}-on-", count=s.small,
                                overwrite=True)),
                "save_off": (f"{s.small} saves of 1 KiB, overwrite off (new names)", s.small,
                             job("put_many", ns="main", prefix=lambda f, r: f"{f}-off{r}-", count=s.small,
                                 overwrite=False)),
                "exists": (f"{s.meta} exists()", s.meta, job("exists_many", ns="main", prefix="meta-",
                                                              count=s.meta)),
                # collectstatic asks this twice per new file (its copy, then the hashed name)
                "missing": (f"{s.meta} exists() of a missing name", s.meta,
                            job("missing_many", ns="main", prefix="meta-", count=s.meta)),
                "size": (f"{s.meta} size()", s.meta,
                         job("size_many", ns="main", prefix="meta-", count=s.meta)),
                "read_small": (f"{s.meta} open+read of 1 KiB", s.meta,
                               job("read_many", ns="main", prefix="meta-", count=s.meta)),
                "listdir": (f"listdir of {s.listing:,} objects", 0,
                            job("listdir", ns="list", path="", expect=s.listing)),
            }
            for op in wanted:
                label, count, measure = per_op[op]
                folders = op == "missing" and self.backend_cls.folder_listing
                flavours = [*self.flavours(), "folders"] if folders else None
                results = self.rounds(s.rounds, measure, flavours, label=label)
                per = count or 1  # per operation; listdir is one call

                def per_call(rs: list[dict], n: int = per) -> float:
                    return statistics.median(r["seconds"] for r in rs) * 1000 / n

                self.add(label, "ms/op" if count else "ms", results, per_call)
                if folders:
                    self.add(f"{label}: raw SDK with ours' folder check", "ms/op",
                             {"ours": results["ours"], "raw": results["folders"]}, per_call)
        finally:
            for side in sides.values():
                if isinstance(side, SideProcess):
                    side.close()

    def collectstatic(self) -> None:
        s = self.settings
        label = f"collectstatic of {s.static:,} files (manifest)"
        django_sides = ["ours", "upstream"]
        sides = {f: self.spawn(f) for f in django_sides}
        try:
            def measure(flavour: str, round_: int) -> dict[str, Any] | Failed:
                side = sides[flavour]
                if isinstance(side, Failed):
                    return side
                ns = f"st-{flavour}-{round_}"
                self.raw.create(ns)
                profile = self.profile_path(flavour, "collectstatic", round_)
                return outcome(side.call("collectstatic", profile=profile, ns=ns))

            results: dict[str, Any] = self.rounds(s.rounds_big, measure, django_sides, label=label)
            results["raw"] = Failed("collectstatic is Django's; the SDK has no equivalent")
            self.add(label, "s", results, lambda rs: statistics.median(r["seconds"] for r in rs))
        finally:
            for side in sides.values():
                if isinstance(side, SideProcess):
                    side.close()

    def requests(self, proxy: common.CountingProxy | None) -> None:
        """Requests per operation: HTTP requests seen by ``proxy``; without one (FTP, SFTP) the
        protocol requests each side's client sends (FTP commands, SFTP requests), counted in it."""
        s = self.settings
        one = {"ns": "main", "prefix": "meta-", "count": 1}
        # Each case runs once uncounted first (its storage connected, its client warm); ``phase``
        # is "warm" or "count", so a create-only save gets a fresh name each time.
        cases = [
            ("requests: save 1 KiB, overwrite on", "put_many",
             lambda f, phase="count": {"ns": "main", "prefix": f"{f}-on-", "count": 1, "overwrite": True}),
            ("requests: save 1 KiB, overwrite off (new name)", "put_many",
             lambda f, phase="count": {"ns": "main", "prefix": f"{f}-{phase}-", "count": 1,
                                       "overwrite": False}),
            ("requests: exists()", "exists_many", lambda f, phase="count": one),
            # what collectstatic asks twice per new file (its copy, then the hashed name)
            ("requests: exists() of a missing name", "missing_many", lambda f, phase="count": one),
            ("requests: size()", "size_many", lambda f, phase="count": one),
            ("requests: open+read of 1 KiB", "read_many", lambda f, phase="count": one),
            (f"requests: listdir of {s.listing:,} objects", "listdir",
             lambda f, phase="count": {"ns": "list", "path": "", "expect": s.listing}),
        ]
        results: dict[str, dict[str, Any]] = {label: {} for label, _, _ in cases}
        for flavour in FLAVOURS:
            self.step(f"counting requests [{flavour}]")
            side = self.spawn(flavour)
            if isinstance(side, Failed):
                for label in results:
                    results[label][flavour] = side
                continue
            try:
                proxied = proxy is not None
                for label, job, args in cases:
                    warm = outcome(side.call(job, counted=proxied, **args(flavour, "warm")))
                    if isinstance(warm, Failed):
                        results[label][flavour] = warm
                        continue
                    if proxy is None:
                        answer = outcome(side.call(job, protocol=True, **args(flavour)))
                        results[label][flavour] = answer if isinstance(answer, Failed) else \
                            [{"n": answer["requests"]}]
                        continue
                    with proxy.counting() as counter:
                        answer = outcome(side.call(job, counted=True, **args(flavour)))
                    results[label][flavour] = answer if isinstance(answer, Failed) else [{"n": counter.count}]
            finally:
                side.close()
        for label, _, _ in cases:
            self.add(label, "requests", results[label], lambda rs: rs[0]["n"])


def emulator_processes() -> list[psutil.Process]:
    """The running ``python -m emulators up`` child of this process, and its own children."""
    for child in psutil.Process().children():
        try:
            if "emulators" in child.cmdline():
                return [child, *child.children(recursive=True)]
        except psutil.Error:
            continue
    return []


# -- output ----------------------------------------------------------------------------------------


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "requests":
        return f"{value:.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _noise(value: float | None) -> str:
    return "-" if value is None else f"±{value * 100:.0f}%"


def table(rows: list[Row]) -> str:
    header = ("backend", "operation", "unit", "ours", "upstream", "raw", "ours/raw", "ours/upstream",
              "noise", "CPU ours/raw", "CPU ours/up")
    body = [(r.backend, r.operation, r.unit, _fmt(r.values.get("ours"), r.unit),
             _fmt(r.values.get("upstream"), r.unit), _fmt(r.values.get("raw"), r.unit),
             _ratio(r.ratio("raw")), _ratio(r.ratio("upstream")), _noise(r.noise),
             _ratio(r.cpu_ratio("raw")), _ratio(r.cpu_ratio("upstream"))) for r in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    right = set(range(3, len(header)))

    def line(cells: tuple[str, ...]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in pairs)

    out = [line(header), "  ".join("-" * w for w in widths)]
    previous = None
    for row, cells in zip(rows, body, strict=True):
        if previous is not None and row.backend != previous:
            out.append("")
        previous = row.backend
        out.append(line(cells))
    notes = sorted({(r.backend, f, reason) for r in rows for f, reason in r.notes.items()})
    if notes:
        out += ["", "Notes ('-' cells: why not measurable):"]
        for backend, flavour, reason in notes:
            ops = [r.operation for r in rows if r.backend == backend and r.notes.get(flavour) == reason]
            every = len(ops) == sum(r.backend == backend for r in rows)
            out.append(f"  {backend} {flavour} ({'every operation' if every else '; '.join(ops)}): {reason}")
    return "\n".join(out)


# -- main ------------------------------------------------------------------------------------------


def make_static_tree(root: str, count: int) -> None:
    """``count`` files of about 1 KiB for collectstatic, in folders of 100. No stylesheets: the
    manifest would rewrite their ``url()`` references with ``storage.url()``, which is signed
    (time-dependent) or an API call on several backends, so results would not converge."""
    for i in range(count):
        folder = os.path.join(root, f"d{i // 100:02d}")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"f{i:05d}.txt"), "w") as f:
            f.write(f"static file {i}\n" * 64)


def make_source(path: str, size: int) -> None:
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(MB, left))
            f.write(block)
            left -= len(block)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated, from: {', '.join(BACKENDS)} (default: all)")
    parser.add_argument("--operations", default=",".join(OPERATIONS),
                        help=f"comma-separated, from: {', '.join(OPERATIONS)} (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and few rounds (a smoke run, not figures to quote)")
    parser.add_argument("--size-mb", type=int, help="large file size in MiB (default 100; quick 8)")
    parser.add_argument("--small", type=int, help="small saves per run (default 200; quick 10)")
    parser.add_argument("--meta", type=int, help="exists/size/open+read per run (default 100; quick 10)")
    parser.add_argument("--list", type=int, help="objects to list (default 2000; quick 50)")
    parser.add_argument("--static", type=int, help="collectstatic files (default 2000; quick 30)")
    parser.add_argument("--rounds", type=int, help="rounds of the small operations (default 5; quick 1)")
    parser.add_argument("--rounds-big", type=int, help="rounds of the large ones (default 3; quick 1)")
    parser.add_argument("--json", metavar="FILE", help="write the rows as JSON")
    parser.add_argument("--profile", metavar="DIR",
                        help="run every timed job under cProfile (main thread) and write DIR/<backend>-<job>-"
                             "<side>-<round>.prof and .prof.txt (top functions); slows the figures down")
    parser.add_argument("--no-upstream", action="store_true", help="skip django-storages 1.14.6")
    parser.add_argument("--upstream-venv", default=upstream_venv.DEFAULT_PATH,
                        help="where the upstream virtualenv lives (created if missing)")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    operations = [o.strip() for o in args.operations.split(",") if o.strip()]
    for kind, chosen, valid in (("backend", backends, BACKENDS), ("operation", operations, OPERATIONS)):
        unknown = [c for c in chosen if c not in valid]
        if unknown:
            parser.error(f"unknown {kind}(s): {', '.join(unknown)}; valid: {', '.join(valid)}")
    args.backends, args.operations = backends, tuple(operations)
    quick = args.quick
    defaults = {"size_mb": (100, 8), "small": (200, 10), "meta": (100, 10), "list": (2000, 50),
                "static": (2000, 30), "rounds": (5, 1), "rounds_big": (3, 1)}
    for name, (full, small) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if quick else full)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A terminated run still stops its emulator and workers (the ``finally`` blocks run).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    common.setup_django()
    settings = Settings(size=args.size_mb * MB, small=args.small, meta=args.meta, listing=args.list,
                        static=args.static, rounds=args.rounds, rounds_big=args.rounds_big,
                        operations=args.operations, profile_dir=args.profile)
    pythons: dict[str, str | Failed] = {"ours": sys.executable}
    if args.no_upstream:
        pythons["upstream"] = Failed("skipped (--no-upstream)")
    else:
        try:
            pythons["upstream"] = upstream_venv.ensure(args.upstream_venv)
        except upstream_venv.UpstreamUnavailable as exc:
            pythons["upstream"] = Failed(str(exc))
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="storages-compare-") as workdir:
        source = os.path.join(workdir, "source.bin")
        if {"save_big", "read_big"} & set(settings.operations):
            make_source(source, settings.size)
        if "collectstatic" in settings.operations:
            make_static_tree(os.path.join(workdir, "static"), settings.static)
        progress = Progress(estimate_steps(args.backends, settings))
        try:
            for name in args.backends:
                try:
                    rows += BackendRun(name, pythons, settings, workdir, source, progress).run()
                except Exception as exc:  # one backend's emulator failing must not lose the others' rows
                    rows.append(Row(name, "(all)", "-", {f: None for f in FLAVOURS},
                                    {f: f"failed: {type(exc).__name__}: {exc}" for f in FLAVOURS}))
                if args.json:  # after every backend, so a long run's figures survive an interruption
                    write_json(args.json, args, settings, rows)
        finally:
            progress.close()
    print(f"storages vs django-storages 1.14.6 vs the raw SDK, same emulator, interleaved; medians of "
          f"{settings.rounds} (small operations) / {settings.rounds_big} (large, collectstatic)"
          f"{' -- QUICK run: not figures to quote' if args.quick else ''}"
          f"{' -- PROFILED: cProfile slows every figure' if args.profile else ''}")
    print("ratios: higher is better for ours (throughput ours/x; times, memory, requests and CPU x/ours)\n")
    print(table(rows))
    return 0


def write_json(path: str, args: argparse.Namespace, settings: Settings, rows: list[Row]) -> None:
    with open(path, "w") as f:
        json.dump({"settings": {"size_mb": args.size_mb, "small": settings.small, "meta": settings.meta,
                                "list": settings.listing, "static": settings.static,
                                "rounds": settings.rounds, "rounds_big": settings.rounds_big,
                                "quick": args.quick},
                   "rows": [row.as_json() for row in rows]}, f, indent=1)


def estimate_steps(backends: list[str], s: Settings) -> int:
    ops = set(s.operations)
    per_backend = 2  # emulator start, set-up
    per_backend += len({"save_big", "read_big"} & ops) * s.rounds_big * 3
    small = {"save_on", "save_off", "exists", "missing", "size", "read_small", "listdir"}
    per_backend += len(small & ops) * s.rounds * 3
    per_backend += ("collectstatic" in ops) * s.rounds_big * 2
    steps = per_backend * len(backends)
    for name in backends:  # the sides that explain a gap
        backend = BACKENDS[name]
        steps += ("missing" in ops and backend.folder_listing) * s.rounds
        for op, direction in (("save_big", "save"), ("read_big", "read")):
            if op in ops:
                steps += s.rounds_big * len(explaining_flavours(backend, direction))
    steps += ("requests" in ops) * 3 * sum(BACKENDS[b].http for b in backends)
    return steps


if __name__ == "__main__":
    sys.exit(main())
