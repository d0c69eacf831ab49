"""SFTP backend on the paramiko SFTP emulator: requests per operation, memory, throughput,
small-operation cost, reconnect cost.

Run: ``python bench/bench_sftp.py [--size-mb 500] [--small 100] [--repeat 3]``. The
emulator runs in its own process (``python -m emulators up sftp``), so its memory and
CPU are not counted here. Figures are medians; ratios compare our backend with raw
paramiko (``putfo``/``getfo``, which pipeline and prefetch) on the same server in the
same run, interleaved. Both clients set TCP_NODELAY (see ``raw_client``).
"""

from __future__ import annotations

import io
import os
import socket
import statistics
import sys
from contextlib import contextmanager
from typing import Any, Iterator

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import MB, Row


def make_storage(options: dict, **extra: Any) -> Any:
    from storages.backends.sftpstorage import SFTPStorage

    return SFTPStorage(**{**options, **extra})


def raw_client(options: dict) -> Any:
    import paramiko

    ssh = paramiko.SSHClient()
    ssh.load_system_host_keys(options["known_host_file"])
    ssh.connect(options["host"], **options["params"])
    # As our backend does: without it Nagle + delayed ACKs stall synchronous requests.
    ssh.get_transport().sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sftp = ssh.open_sftp()
    sftp._bench_ssh = ssh  # keep the connection's owner alive
    return sftp


@contextmanager
def counting_requests() -> Iterator[list[int]]:
    """Count SFTP requests sent by paramiko clients in this process (every request,
    synchronous or pipelined, goes through ``SFTPClient._async_request``)."""
    import paramiko

    counter = [0]
    original = paramiko.SFTPClient._async_request

    def counted(self: Any, *args: Any) -> Any:
        counter[0] += 1
        return original(self, *args)

    paramiko.SFTPClient._async_request = counted
    try:
        yield counter
    finally:
        paramiko.SFTPClient._async_request = original


def requests_per_operation(options: dict) -> list[Row]:
    from django.core.files.base import ContentFile

    on = make_storage(options, file_overwrite=True)
    off = make_storage(options, file_overwrite=False)
    on.save("bench-ops/warm.txt", ContentFile(b"warm"))  # connect outside the counts
    off.exists("bench-ops/warm.txt")
    rows: list[Row] = []

    def count(label: str, fn: Any) -> None:
        with counting_requests() as counter:
            fn()
        rows.append((label, counter[0]))

    count("save small, overwrite on (open, write, close, posix-rename)",
          lambda: on.save("bench-ops/small.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name free (open, write, close, rename)",
          lambda: off.save("bench-ops/free.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name taken",
          lambda: off.save("bench-ops/free.txt", ContentFile(b"y")))
    count("save small into a new directory", lambda: on.save("bench-ops/new/dir/a.txt", ContentFile(b"x")))
    common.count_metadata(count, on, "bench-ops/small.txt", modified_time=False)
    count("url", lambda: on.url("bench-ops/small.txt"))
    count("open + read small (open, fstat, read, close)",
          lambda: common.read_whole(on, "bench-ops/small.txt"))
    count("delete", lambda: on.delete("bench-ops/small.txt"))
    on.close()
    off.close()
    return rows


def big_file(options: dict, size: int, repeat: int) -> list[Row]:
    """Throughput is timed without the RSS sampler (it costs CPU), interleaved with raw
    paramiko; peak RSS growth is measured in separate passes."""
    storage = make_storage(options, file_overwrite=True)
    client = raw_client(options)
    storage.exists("warm")
    save, read = common.big_save_and_read(storage, size)

    def raw_put() -> None:
        client.putfo(common.GeneratedStream(size), "/raw.bin")

    def raw_get() -> None:
        sink = common.Sink()
        client.getfo("/raw.bin", sink)
        assert sink.count == size

    seconds = common.interleaved_medians({"save": save, "raw put": raw_put, "read": read, "raw get": raw_get},
                                         repeat)
    speed = {label: common.throughput_mb_s(size, value) for label, value in seconds.items()}
    rss = {"save": common.peak_rss_growth(save)[0], "read": common.peak_rss_growth(read)[0],
           "raw putfo": common.peak_rss_growth(raw_put)[0], "raw getfo": common.peak_rss_growth(raw_get)[0]}
    storage.delete("big.bin")
    client.remove("/raw.bin")
    client.close()
    storage.close()
    return [
        *common.peak_rss_rows(size, rss),
        *common.throughput_vs_raw("save", speed["save"], {"putfo": speed["raw put"]}),
        *common.throughput_vs_raw("read", speed["read"], {"getfo": speed["raw get"]}),
    ]


def small_operations(options: dict, count: int, repeat: int) -> list[Row]:
    from django.core.files.base import ContentFile

    on = make_storage(options, file_overwrite=True)
    off = make_storage(options, file_overwrite=False)
    client = raw_client(options)
    client.mkdir("/raw-small")
    on.save("small/warm.txt", ContentFile(b"w"))
    off.exists("small/warm.txt")
    payload = b"small file body " * 64
    rounds = iter(range(10**6))

    def ours_saves(storage: Any) -> Any:
        def run() -> None:
            prefix = f"small/{next(rounds)}"
            for i in range(count):
                storage.save(f"{prefix}-{i}.txt", ContentFile(payload))
        return run

    def raw_saves() -> None:
        prefix = f"/raw-small/{next(rounds)}"
        for i in range(count):
            client.putfo(io.BytesIO(payload), f"{prefix}-{i}.txt")

    def ours_exists() -> None:
        for _ in range(count):
            on.exists("small/warm.txt")

    def raw_exists() -> None:
        for _ in range(count):
            client.stat("/small/warm.txt")

    result = common.interleaved_medians(
        {"ours on": ours_saves(on), "ours off": ours_saves(off), "raw": raw_saves,
         "ours exists": ours_exists, "raw exists": raw_exists},
        max(repeat, 7),  # cheap, and noisier than the large transfers
    )
    client.close()
    on.close()
    off.close()
    return [
        (f"{count} small saves, overwrite on: ours (s)", result["ours on"]),
        (f"{count} small saves, overwrite off (create-only): ours (s)", result["ours off"]),
        (f"{count} small saves: raw putfo (s)", result["raw"]),
        ("small saves ratio ours/raw (overwrite on)", result["ours on"] / result["raw"]),
        ("small saves ratio ours/raw (create-only)", result["ours off"] / result["raw"]),
        *common.seconds_vs_raw(f"{count} exists()", result["ours exists"], result["raw exists"], "stat",
                               "exists"),
    ]


def emulator_and_reconnect() -> list[Row]:
    """In-process: emulator start, and the cost of the first call after a server restart."""
    from django.core.files.base import ContentFile

    from emulators.sftp import SFTPEmulator

    reconnects, warm = [], []

    def reconnect(emulator: SFTPEmulator) -> None:
        storage = make_storage(emulator.new_namespace())
        storage.save("f.txt", ContentFile(b"x"))
        warm.append(common.timed(lambda: storage.exists("f.txt"))[0])
        emulator.restart()
        reconnects.append(common.timed(lambda: storage.exists("f.txt"))[0])
        storage.close()

    start = common.emulator_start_seconds(SFTPEmulator, each=reconnect)
    return [
        ("emulator start, median of 3 (s)", start),
        ("exists() on a live connection (ms)", statistics.median(warm) * 1000),
        ("first exists() after a server restart, reconnect included (ms)",
         statistics.median(reconnects) * 1000),
    ]


def main() -> None:
    args = common.bench_parser(__doc__, small=100, repeat=3).parse_args()
    common.setup_django(MEDIA_URL="/media/")
    with common.serve("sftp") as described:
        options = described["options"]
        common.print_rows("SFTP: requests per operation", requests_per_operation(options))
        common.print_rows("SFTP: small operations vs raw paramiko",
                          small_operations(options, args.small, args.repeat))
        common.print_rows("SFTP: large file vs raw paramiko",
                          big_file(options, args.size_mb * MB, args.repeat))
    common.print_rows("SFTP: emulator and reconnects", emulator_and_reconnect())


if __name__ == "__main__":
    main()
