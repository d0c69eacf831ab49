"""FTP backend on the pyftpdlib emulator: commands per operation, memory, throughput,
small-save cost, reconnect cost.

Run: ``python bench/bench_ftp.py [--size-mb 500] [--small 100]``. For the large-file
and small-save figures the emulator runs in its own process
(``python -m emulators up ftp``), so neither its memory nor its CPU counts against
the client; ratios compare our backend with raw ``ftplib`` (``storbinary`` /
``retrbinary``) on the same server in the same run. Commands per operation are
counted by an in-process emulator, which records every command it receives.
"""

from __future__ import annotations

import argparse
import ftplib
import os
import statistics
import sys
from collections import Counter
from urllib.parse import unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import (  # noqa: E402
    MB,
    GeneratedStream,
    Sink,
    drain,
    peak_rss_growth,
    print_rows,
    serve,
    throughput_mb_s,
    timed,
)


def setup_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True, MEDIA_URL="/media/")
        import django

        django.setup()


def raw_client(location: str) -> ftplib.FTP:
    parts = urlsplit(location)
    ftp = ftplib.FTP(timeout=60)
    ftp.connect(parts.hostname, parts.port)
    ftp.login(unquote(parts.username), unquote(parts.password))
    ftp.voidcmd("TYPE I")
    return ftp


def commands_per_operation() -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile

    from emulators.ftp import FTPEmulator
    from storages.backends.ftp import FTPStorage

    emulator = FTPEmulator()
    emulator.start()
    try:
        options = emulator.new_namespace()
        on = FTPStorage(**options, file_overwrite=True)
        off = FTPStorage(**options, file_overwrite=False)
        on.save("warm.txt", ContentFile(b"w"))  # log in outside the counts
        off.exists("warm.txt")
        rows: list[tuple[str, object]] = []

        def count(label, fn):
            emulator.commands.clear()
            fn()
            seen = Counter(cmd for cmd, _ in emulator.commands)
            rows.append((label, f"{sum(seen.values())}  ({' '.join(f'{c}x{n}' if n > 1 else c for c, n in seen.items())})"))

        def open_read():
            with on.open("small.txt") as f:
                f.read()

        def open_seek_read():
            with on.open("small.txt") as f:
                f.seek(500)
                f.read()

        count("save small, overwrite on", lambda: on.save("small.txt", ContentFile(b"x" * 1000)))
        count("save small, overwrite off, name free", lambda: off.save("free.txt", ContentFile(b"x")))
        count("save small, overwrite off, name taken", lambda: off.save("free.txt", ContentFile(b"y")))
        count("save small into a new directory", lambda: on.save("new/dir/a.txt", ContentFile(b"x")))
        count("exists", lambda: on.exists("small.txt"))
        count("size", lambda: on.size("small.txt"))
        count("get_modified_time", lambda: on.get_modified_time("small.txt"))
        count("open + read", open_read)
        count("open + seek + read", open_seek_read)
        count("listdir", lambda: on.listdir(""))
        count("delete", lambda: on.delete("small.txt"))
        count("url", lambda: on.url("small.txt"))
        on.close()
        off.close()
        return rows
    finally:
        emulator.stop()


def big_file(location: str, size: int, repeat: int) -> list[tuple[str, object]]:
    """Throughput is timed without the RSS sampler running (medians of ``repeat``
    interleaved runs); peak RSS growth is measured in separate passes."""
    from django.core.files.base import File

    from storages.backends.ftp import FTPStorage

    storage = FTPStorage(location=location, file_overwrite=True)
    raw = raw_client(location)
    root = storage.root
    storage.exists("warm")  # connect outside the timings

    def save():
        storage.save("big.bin", File(GeneratedStream(size), name="big.bin"))

    def read():
        with storage.open("big.bin", "rb") as f:
            assert drain(f, MB) == size

    def raw_save():
        raw.storbinary(f"STOR {root}/raw.bin", GeneratedStream(size), blocksize=MB)

    def raw_read():
        sink = Sink()
        raw.retrbinary(f"RETR {root}/raw.bin", sink.write, blocksize=MB)
        assert sink.count == size

    samples: dict[str, list[float]] = {}
    for _ in range(repeat):  # interleaved: the server's speed drifts; medians of each side
        for label, fn in [("ours up", save), ("raw up", raw_save), ("ours down", read), ("raw down", raw_read)]:
            samples.setdefault(label, []).append(timed(fn)[0])
    ours_up, raw_up, ours_down, raw_down = (statistics.median(samples[k])
                                            for k in ("ours up", "raw up", "ours down", "raw down"))
    save_rss, _ = peak_rss_growth(save)
    read_rss, _ = peak_rss_growth(read)
    raw_save_rss, _ = peak_rss_growth(raw_save)
    raw.quit()
    storage.close()
    up, down = throughput_mb_s(size, ours_up), throughput_mb_s(size, ours_down)
    raw_up_mb, raw_down_mb = throughput_mb_s(size, raw_up), throughput_mb_s(size, raw_down)
    mb = size // MB
    return [
        (f"peak RSS growth, save {mb} MB (MB)", save_rss),
        (f"peak RSS growth, read {mb} MB (MB)", read_rss),
        (f"peak RSS growth, raw storbinary {mb} MB (MB)", raw_save_rss),
        (f"save MB/s: ours (median of {repeat})", up),
        ("save MB/s: raw storbinary", raw_up_mb),
        ("save ratio ours/raw", up / raw_up_mb),
        ("read MB/s: ours", down),
        ("read MB/s: raw retrbinary", raw_down_mb),
        ("read ratio ours/raw", down / raw_down_mb),
    ]


def small_saves(location: str, count: int) -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile

    from storages.backends.ftp import FTPStorage

    on = FTPStorage(location=location, file_overwrite=True)
    off = FTPStorage(location=location, file_overwrite=False)
    raw = raw_client(location)
    root = on.root
    payload = b"small file body " * 64
    on.save("small/warm.txt", ContentFile(b"w"))
    off.exists("small/warm.txt")
    rounds = {"n": 0}

    def ours_on():
        for i in range(count):
            on.save(f"small/{i}.txt", ContentFile(payload))

    def ours_off():
        rounds["n"] += 1  # fresh names each round: every save creates a file
        for i in range(count):
            off.save(f"small/off{rounds['n']}-{i}.txt", ContentFile(payload))

    def raw_saves():
        for i in range(count):
            raw.storbinary(f"STOR {root}/small/raw{i}.txt", _BytesSource(payload))

    samples: dict[str, list[float]] = {}
    for _ in range(5):  # interleaved, so drift in the server hits every side alike
        for label, fn in [("on", ours_on), ("off", ours_off), ("raw", raw_saves)]:
            samples.setdefault(label, []).append(timed(fn)[0])
    med = {label: statistics.median(values) for label, values in samples.items()}
    raw.quit()
    on.close()
    off.close()
    return [
        (f"{count} small saves, overwrite on: ours (s)", med["on"]),
        (f"{count} small saves, overwrite off (default): ours (s)", med["off"]),
        (f"{count} small saves: raw storbinary (s)", med["raw"]),
        ("small saves ratio ours(on)/raw", med["on"] / med["raw"]),
        ("small saves ratio ours(off)/raw", med["off"] / med["raw"]),
    ]


class _BytesSource:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, n: int = -1) -> bytes:
        data, self._data = self._data, b""
        return data


def reconnect_cost() -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile

    from emulators.ftp import FTPEmulator
    from storages.backends.ftp import FTPStorage

    emulator = FTPEmulator()
    emulator.start()
    try:
        storage = FTPStorage(**emulator.new_namespace())
        storage.save("a.txt", ContentFile(b"a"))
        warm = statistics.median(timed(lambda: storage.exists("a.txt"))[0] for _ in range(20))
        after = []
        for _ in range(5):
            emulator.restart()
            after.append(timed(lambda: storage.exists("a.txt"))[0])
        storage.close()
        return [("exists() on a live connection (ms)", warm * 1000),
                ("first exists() after a server restart, reconnecting (ms)", statistics.median(after) * 1000)]
    finally:
        emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3, help="large-file runs per side (median)")
    args = parser.parse_args()
    setup_django()
    print_rows("FTP: commands per operation (in-process emulator)", commands_per_operation())
    with serve("ftp") as described:
        location = described["options"]["location"].rstrip("/") + "/bench"
        print_rows("FTP: small saves vs raw ftplib", small_saves(location, args.small))
        print_rows("FTP: large file vs raw ftplib", big_file(location, args.size_mb * MB, args.repeat))
    print_rows("FTP: reconnecting", reconnect_cost())


if __name__ == "__main__":
    main()
