"""One side of bench/compare.py, in its own interpreter: ours and raw run from ``.venv``,
upstream from ``.bench-venv-upstream`` (where ``storages`` is django-storages 1.14.6).

Protocol: one JSON object per line on stdin, one answer per line on the original stdout
(anything the SDKs print goes to stderr). The first line is the set-up::

    {"backend": "s3", "flavour": "ours", "spec": {...}}

then jobs ``{"job": "exists", "args": {...}, "counted": false}``; answers are
``{"seconds": s, "cpu": s, "rss_mb": m, "value": v}`` (``cpu``: this process's CPU time),
``{"not_measurable": reason}`` or ``{"error": message}``. ``"counted": true`` runs the job
on a second side pointed at the request-counting proxy (``spec["bench"]["proxy"]``);
``"profile": PATH`` runs it under cProfile (this thread only) and writes ``PATH`` (pstats)
and ``PATH.txt`` (the top functions). Peak RSS growth is read from the kernel's high-water
mark, so nothing samples memory while a job is timed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import traceback
from typing import Any, Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def use_project_last() -> None:
    """This checkout goes last on the path (for ``bench``), so that in the upstream interpreter
    ``storages`` stays django-storages 1.14.6; the script's own folder goes away."""
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.join(ROOT, "bench")] + [ROOT]


def configure_django(spec: dict[str, Any]) -> None:
    from django.conf import settings

    settings.configure(
        USE_TZ=True, MEDIA_URL="/media/", STATIC_URL="/static/",
        INSTALLED_APPS=["django.contrib.staticfiles"],
        STATICFILES_DIRS=[spec["bench"]["static_dir"]] if spec["bench"].get("static_dir") else [],
        LIBCLOUD_PROVIDERS={},
    )
    import django

    django.setup()
    import mimetypes

    mimetypes.init()  # the first guess_type() reads the system's type files: not part of any timing


class Worker:
    def __init__(self, backend: str, flavour: str, spec: dict[str, Any]) -> None:
        from bench.sides import BACKENDS, PAYLOAD

        self.payload = PAYLOAD
        self.backend = BACKENDS[backend](spec)
        self.flavour = flavour
        self.spec = spec
        self.side = self.backend.side(flavour)
        self._counted: Any = None

    def counted_side(self) -> Any:
        if self._counted is None:
            self._counted = self.backend.side(self.flavour, endpoint=self.spec["bench"]["proxy"])
        return self._counted

    def run(self, job: str, args: dict[str, Any], counted: bool = False,
            profile: str | None = None, protocol: bool = False) -> dict[str, Any]:
        import cProfile
        import resource

        from bench.common import HighWaterMark

        side = self.counted_side() if counted else self.side
        fn = getattr(self, f"job_{job}")
        profiler = cProfile.Profile() if profile else None
        def cpu() -> float:  # this process, every thread
            usage = resource.getrusage(resource.RUSAGE_SELF)
            return usage.ru_utime + usage.ru_stime

        sent = [0]
        with HighWaterMark() as memory, counting_protocol_requests(sent, enabled=protocol):
            cpu_start, start = cpu(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            value = fn(side, **args)
            if profiler is not None:
                profiler.disable()
            seconds, cpu_seconds = time.perf_counter() - start, cpu() - cpu_start
        if profiler is not None and profile:
            write_profile(profiler, profile, f"{self.flavour} {job} {args} {seconds:.3f} s")
        answer = {"seconds": seconds, "cpu": cpu_seconds, "rss_mb": memory.growth, "value": value}
        if protocol:
            answer["requests"] = sent[0]
        return answer

    # -- jobs: loops of one primitive, timed as a whole ------------------------------------------
    def job_put_many(self, side: Any, ns: str, prefix: str, count: int, overwrite: bool | None) -> None:
        for i in range(count):
            side.put(ns, f"{prefix}{i}.txt", self.payload, overwrite)

    def job_exists_many(self, side: Any, ns: str, prefix: str, count: int) -> None:
        for i in range(count):
            if not side.exists(ns, f"{prefix}{i}.txt"):
                raise AssertionError(f"{prefix}{i}.txt should exist")

    def job_missing_many(self, side: Any, ns: str, prefix: str, count: int) -> None:
        for i in range(count):
            if side.exists(ns, f"{prefix}{i}.missing"):
                raise AssertionError(f"{prefix}{i}.missing should not exist")

    def job_missing_or_folder_many(self, side: Any, ns: str, prefix: str, count: int) -> None:
        """A raw side doing what ours' ``exists()`` does for a missing name: the object's own
        request, then a listing for a folder of that name."""
        for i in range(count):
            name = f"{prefix}{i}.missing"
            if side.exists(ns, name) or side.is_folder(ns, name):
                raise AssertionError(f"{name} should not exist")

    def job_size_many(self, side: Any, ns: str, prefix: str, count: int) -> None:
        for i in range(count):
            if side.size(ns, f"{prefix}{i}.txt") != len(self.payload):
                raise AssertionError(f"wrong size for {prefix}{i}.txt")

    def job_read_many(self, side: Any, ns: str, prefix: str, count: int) -> None:
        for i in range(count):
            if side.read(ns, f"{prefix}{i}.txt", None) != len(self.payload):
                raise AssertionError(f"short read of {prefix}{i}.txt")

    def job_listdir(self, side: Any, ns: str, path: str, expect: int) -> int:
        dirs, files = side.listdir(ns, path)
        if len(files) != expect:
            raise AssertionError(f"listdir found {len(files)} files, expected {expect}")
        return len(files)

    def job_put_file(self, side: Any, ns: str, name: str, path: str) -> None:
        side.put_file(ns, name, path)

    def job_read_big(self, side: Any, ns: str, name: str, size: int) -> int:
        count = side.read(ns, name, 1024 * 1024)
        if count != size:
            raise AssertionError(f"read {count} bytes of {size}")
        return count

    def job_collectstatic(self, side: Any, ns: str) -> str | None:
        return side.collectstatic(ns)

    def job_warm(self, side: Any, ns: str, name: str) -> None:
        side.exists(ns, name)


@contextlib.contextmanager
def counting_protocol_requests(sent: list[int], enabled: bool) -> Iterator[None]:
    """Count, in ``sent[0]``, the FTP commands (``ftplib.FTP.putcmd``) and SFTP requests
    (paramiko's ``SFTPClient._async_request``, every request whether waited for or pipelined)
    this process sends meanwhile."""
    if not enabled:
        yield
        return
    patched: list[tuple[Any, str, Any]] = []
    for module, owner, method in (("ftplib", "FTP", "putcmd"), ("paramiko", "SFTPClient", "_async_request")):
        try:
            cls = getattr(__import__(module), owner)
        except ImportError:
            continue
        original = getattr(cls, method)

        def counted(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            sent[0] += 1
            return _original(*args, **kwargs)

        setattr(cls, method, counted)
        patched.append((cls, method, original))
    try:
        yield
    finally:
        for cls, method, original in patched:
            setattr(cls, method, original)


def write_profile(profiler: Any, path: str, title: str, top: int = 30) -> None:
    """``path``: the pstats dump; ``path.txt``: the ``top`` functions by own time, then by cumulative."""
    import io
    import pstats

    profiler.dump_stats(path)
    text = io.StringIO()
    text.write(f"{title}\n")
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    with open(path + ".txt", "w") as f:
        f.write(text.getvalue())


def main() -> None:
    use_project_last()
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # stray prints from SDKs must not corrupt the protocol
    sys.stdout = sys.stderr

    def answer(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj) + "\n")

    setup = json.loads(sys.stdin.readline())
    try:
        configure_django(setup["spec"])
        import storages

        if setup["flavour"] == "upstream" and os.path.dirname(os.path.abspath(storages.__file__)) == \
                os.path.join(ROOT, "storages"):
            raise RuntimeError(f"the upstream interpreter imported this project's {storages.__file__}")
        worker = Worker(setup["backend"], setup["flavour"], setup["spec"])
        from importlib.metadata import version

        answer({"ready": True, "storages": os.path.dirname(storages.__file__),
                "version": version("django-storages")})
    except Exception as exc:  # the orchestrator reports it for every job of this side
        answer({"error": f"set-up failed: {type(exc).__name__}: {exc}"})
        traceback.print_exc()
        return
    from bench.sides import NotMeasurable

    for line in sys.stdin:
        request = json.loads(line)
        if request.get("job") == "quit":
            return
        try:
            answer(worker.run(request["job"], request.get("args", {}), request.get("counted", False),
                              request.get("profile"), request.get("protocol", False)))
        except NotMeasurable as exc:
            answer({"not_measurable": str(exc)})
        except Exception as exc:
            traceback.print_exc()
            first_line = (str(exc).strip().splitlines() or [""])[0]
            answer({"error": f"{type(exc).__name__}: {first_line[:200]}"})


if __name__ == "__main__":
    main()
