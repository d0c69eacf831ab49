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

import ftplib
import os
import statistics
import sys
from collections import Counter
from urllib.parse import unquote, urlsplit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import MB, Row


def raw_client(location: str) -> ftplib.FTP:
    parts = urlsplit(location)
    ftp = ftplib.FTP(timeout=60)
    ftp.connect(parts.hostname, parts.port)
    ftp.login(unquote(parts.username), unquote(parts.password))
    ftp.voidcmd("TYPE I")
    return ftp


def commands_per_operation() -> list[Row]:
    from django.core.files.base import ContentFile

    from emulators.ftp import FTPEmulator
    from storages.backends.ftp import FTPStorage

    emulator = FTPEmulator()
    emulator.start()
    try:
        options = emulator.new_namespace()
        on, off = common.warmed_storages(lambda **kw: FTPStorage(**options, **kw))
        rows: list[Row] = []

        def count(label, fn):
            emulator.commands.clear()
            fn()
            seen = Counter(cmd for cmd, _ in emulator.commands)
            commands = " ".join(f"{c}x{n}" if n > 1 else c for c, n in seen.items())
            rows.append((label, f"{sum(seen.values())}  ({commands})"))

        def open_seek_read():
            with on.open("small.txt") as f:
                f.seek(500)
                f.read()

        common.count_small_saves(count, on, off)
        count("save small into a new directory", lambda: on.save("new/dir/a.txt", ContentFile(b"x")))
        common.count_metadata(count, on)
        count("open + read", lambda: common.read_whole(on, "small.txt"))
        count("open + seek + read", open_seek_read)
        count("listdir", lambda: on.listdir(""))
        count("delete", lambda: on.delete("small.txt"))
        count("url", lambda: on.url("small.txt"))
        on.close()
        off.close()
        return rows
    finally:
        emulator.stop()


def big_file(location: str, size: int, repeat: int) -> list[Row]:
    """Throughput is timed without the RSS sampler running (medians of ``repeat``
    interleaved runs); peak RSS growth is measured in separate passes."""
    from storages.backends.ftp import FTPStorage

    storage = FTPStorage(location=location, file_overwrite=True)
    raw = raw_client(location)
    root = storage.root
    storage.exists("warm")  # connect outside the timings
    save, read = common.big_save_and_read(storage, size)

    def raw_save():
        raw.storbinary(f"STOR {root}/raw.bin", common.GeneratedStream(size), blocksize=MB)

    def raw_read():
        sink = common.Sink()
        raw.retrbinary(f"RETR {root}/raw.bin", sink.write, blocksize=MB)
        assert sink.count == size

    # interleaved: the server's speed drifts; medians of each side
    seconds = common.interleaved_medians({"ours up": save, "raw up": raw_save, "ours down": read,
                                          "raw down": raw_read}, repeat)
    rss = {"save": common.peak_rss_growth(save)[0], "read": common.peak_rss_growth(read)[0],
           "raw storbinary": common.peak_rss_growth(raw_save)[0]}
    raw.quit()
    storage.close()
    mb_s = {label: common.throughput_mb_s(size, value) for label, value in seconds.items()}
    return [
        *common.peak_rss_rows(size, rss),
        *common.throughput_vs_raw("save", mb_s["ours up"], {"storbinary": mb_s["raw up"]},
                                  f"median of {repeat}"),
        *common.throughput_vs_raw("read", mb_s["ours down"], {"retrbinary": mb_s["raw down"]}),
    ]


def small_saves(location: str, count: int) -> list[Row]:
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

    # interleaved, so drift in the server hits every side alike
    med = common.interleaved_medians({"on": ours_on, "off": ours_off, "raw": raw_saves}, 5)
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


def reconnect_cost() -> list[Row]:
    from django.core.files.base import ContentFile

    from emulators.ftp import FTPEmulator
    from storages.backends.ftp import FTPStorage

    emulator = FTPEmulator()
    emulator.start()
    try:
        storage = FTPStorage(**emulator.new_namespace())
        storage.save("a.txt", ContentFile(b"a"))
        warm = statistics.median(common.timed(lambda: storage.exists("a.txt"))[0] for _ in range(20))
        after = []
        for _ in range(5):
            emulator.restart()
            after.append(common.timed(lambda: storage.exists("a.txt"))[0])
        storage.close()
        return [("exists() on a live connection (ms)", warm * 1000),
                ("first exists() after a server restart, reconnecting (ms)", statistics.median(after) * 1000)]
    finally:
        emulator.stop()


def main() -> None:
    parser = common.bench_parser(__doc__, small=100, repeat=3,
                                 repeat_help="large-file runs per side (median)")
    args = parser.parse_args()
    common.setup_django(MEDIA_URL="/media/")
    common.print_rows("FTP: commands per operation (in-process emulator)", commands_per_operation())
    with common.serve("ftp") as described:
        location = described["options"]["location"].rstrip("/") + "/bench"
        common.print_rows("FTP: small saves vs raw ftplib", small_saves(location, args.small))
        common.print_rows("FTP: large file vs raw ftplib", big_file(location, args.size_mb * MB, args.repeat))
    common.print_rows("FTP: reconnecting", reconnect_cost())


if __name__ == "__main__":
    main()
