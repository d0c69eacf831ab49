"""Per-test isolation cost of the testing toolkit, with each emulator started once.

What a test pays to get its own namespace: ``emulated_storages(name).start()`` (a fresh
bucket/container/directory, ``STORAGES`` overridden, the storage made) plus ``stop()``
(``STORAGES`` restored, connections closed), as the decorator, the mixin, the marker and
the ``emulated_storages`` fixture all do. Beside it, in the same run and interleaved:
Django's own ``override_settings(STORAGES=...)`` enable+disable with the same OPTIONS and no
new namespace (what any override costs), and the fresh namespace alone
(``emulator.new_namespace()``: the service's request, if any). Then the first request a
test makes through the fresh storage (``exists()``: client set-up and one round trip),
which is test time, not isolation.

Run: ``python bench/bench_isolation.py [--repeat 200] [names...]`` (default s3 ftp sftp).
Figures are medians in milliseconds; not pass/fail. The target is <= 20 ms on S3, FTP, SFTP.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import Row


def ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def measure(name: str, repeat: int) -> list[Row]:
    from django.conf import settings
    from django.core.files.storage import storages
    from django.test import override_settings

    from emulators.django import emulated_storages, process_emulator

    emulator = process_emulator(name)
    base = {"BACKEND": emulator.backend, "OPTIONS": emulator.new_namespace()}

    def isolation() -> None:
        use = emulated_storages(name)
        use.start()
        use.stop()

    def django_override() -> None:
        override = override_settings(STORAGES={**settings.STORAGES, "default": base, "staticfiles": base})
        override.enable()
        storages["default"]  # noqa: B018 - make the storage, as start() does
        override.disable()

    def namespace_only() -> None:
        emulator.new_namespace()

    ops = {"isolation": isolation, "django override": django_override, "new namespace": namespace_only}
    for op in ops.values():  # warm up: imports, first connections
        op()
    samples: dict[str, list[float]] = {label: [] for label in ops}
    for _ in range(repeat):
        for label, op in ops.items():  # interleaved rounds: the same load on every figure
            start = time.perf_counter()
            op()
            samples[label].append(time.perf_counter() - start)

    first_request: list[float] = []
    for _ in range(max(5, repeat // 10)):
        with emulated_storages(name) as storage:
            start = time.perf_counter()
            storage.exists("nothing-here.txt")
            first_request.append(time.perf_counter() - start)

    isolation_ms = ms(samples["isolation"])
    return [
        ("emulator", emulator.describe()),
        ("isolation per test: start()+stop() (median ms)", isolation_ms),
        ("  Django override_settings(STORAGES) alone (median ms)", ms(samples["django override"])),
        ("  fresh namespace alone (median ms)", ms(samples["new namespace"])),
        ("  isolation / Django override alone", isolation_ms / ms(samples["django override"])),
        ("  target <= 20 ms", "met" if isolation_ms <= 20 else "NOT met"),
        ("first request through the fresh storage: exists() (median ms)", ms(first_request)),
    ]


def main() -> None:
    parser = common.bench_parser(__doc__, repeat=200, repeat_help="rounds per figure (default 200)")
    parser.add_argument("names", nargs="*", default=["s3", "ftp", "sftp"])
    args = parser.parse_args()
    common.setup_django(INSTALLED_APPS=["django.contrib.staticfiles", "storages"], STATIC_URL="/static/")
    from emulators.django import stop_emulators

    try:
        for name in args.names:
            common.print_rows(f"{name}: per-test isolation, {args.repeat} rounds", measure(name, args.repeat))
    finally:
        stop_emulators()


if __name__ == "__main__":
    main()
