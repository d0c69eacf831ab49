"""Dropbox backend on our Dropbox API fake: requests per operation, memory, throughput, small-op cost.

Run: ``python bench/bench_dropbox.py [--size-mb 500] [--small 200]``. The fake runs
in its own process (``python -m emulators up dropbox``), so its memory is not
counted. Requests are counted by a proxy in front of the fake's plain-HTTP
port. Figures are medians; ratios compare our backend with the raw ``dropbox``
SDK on the same fake in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import (  # noqa: E402
    MB,
    CountingProxy,
    GeneratedStream,
    drain,
    peak_rss_growth,
    print_rows,
    serve,
    throughput_mb_s,
    timed,
)

PART = 4 * MB  # the backend's part size, used for the raw SDK upload loop too


def setup_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True)
        import django

        django.setup()


def make_storage(options: dict, endpoint: str | None = None, **extra):
    from storages.backends.dropbox import DropboxStorage

    return DropboxStorage(**{**options, "api_endpoint": endpoint or options["api_endpoint"], **extra})


def raw_client(options: dict):
    import dropbox

    from storages.backends.dropbox import endpoint_session

    return dropbox.Dropbox(options["oauth2_access_token"], session=endpoint_session(options["api_endpoint"]))


def requests_per_operation(options: dict, proxy: CountingProxy) -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile

    on = make_storage(options, proxy.endpoint, root_path="/bench-requests", file_overwrite=True)
    off = make_storage(options, proxy.endpoint, root_path="/bench-requests", file_overwrite=False)
    on.save("warm.txt", ContentFile(b"warm"))  # clients created outside the counts
    off.exists("warm.txt")
    rows = []

    def count(label, fn):
        with proxy.counting() as counter:
            fn()
        rows.append((label, counter.count))

    def open_read():
        with on.open("small.txt") as f:
            f.read()

    def seek_read():
        with on.open("multi.bin") as f:
            f.seek(5 * MB)
            f.read(100)

    count("save small, overwrite on", lambda: on.save("small.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name free", lambda: off.save("free.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name taken", lambda: off.save("free.txt", ContentFile(b"y")))
    count("save 10 MB (4 MiB parts)", lambda: on.save("multi.bin", ContentFile(b"m" * 10 * MB)))
    count("exists", lambda: on.exists("small.txt"))
    count("size", lambda: on.size("small.txt"))
    count("get_modified_time", lambda: on.get_modified_time("small.txt"))
    count("url (temporary link)", lambda: on.url("small.txt"))
    count("open + read", open_read)
    count("open + seek + read", seek_read)
    count("delete", lambda: on.delete("small.txt"))

    client = raw_client(options)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: client.files_upload(b"", f"/bench-requests/list/k{i:05d}"), range(1000)))
    count("listdir of 1,000 files (fake pages by 100)", lambda: on.listdir("list"))
    return rows


def _raw_upload(client, size: int, path: str) -> None:
    """The raw SDK's own way to stream a big file: an upload session in 4 MiB parts."""
    from dropbox.files import CommitInfo, UploadSessionCursor, WriteMode

    source = GeneratedStream(size)
    first = source.read(PART)
    cursor = UploadSessionCursor(client.files_upload_session_start(first).session_id, len(first))
    while True:
        chunk = source.read(PART)
        if cursor.offset + len(chunk) >= size:
            client.files_upload_session_finish(chunk, cursor, CommitInfo(path, mode=WriteMode.overwrite))
            return
        client.files_upload_session_append_v2(chunk, cursor)
        cursor.offset += len(chunk)


def _raw_download(client, path: str) -> int:
    _, response = client.files_download(path)
    with response:
        return sum(len(c) for c in response.iter_content(MB))


class FakeRSS:
    """Peak RSS growth (MB) of the fake's process (our child, started by ``serve``) over a block."""

    def __enter__(self) -> "FakeRSS":
        import threading

        import psutil

        self._children = psutil.Process().children(recursive=True)
        self._baseline = self._peak = self._rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _rss(self) -> int:
        return sum(child.memory_info().rss for child in self._children)

    def _sample(self) -> None:
        while not self._done.is_set():
            self._peak = max(self._peak, self._rss())
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.growth = (self._peak - self._baseline) / MB


def big_file(options: dict, size: int) -> list[tuple[str, object]]:
    """Throughput: medians of 3 interleaved runs, timed without this process's RSS sampler
    (it costs CPU); RSS in separate passes."""
    from django.core.files.base import File

    storage = make_storage(options, root_path="/bench-big", file_overwrite=True)
    client = raw_client(options)
    client.files_upload(b"w", "/bench-big/warm")
    storage.exists("warm")

    def save():
        storage.save("big.bin", File(GeneratedStream(size), name="big.bin"))

    def read():
        with storage.open("big.bin", "rb") as f:
            assert drain(f, MB) == size

    samples: dict[str, list[float]] = {}
    with FakeRSS() as fake:  # every transfer below: uploads and downloads of the big file
        for _ in range(3):  # interleaved repeats; medians
            for label, fn in [("ours up", save), ("ours down", read),
                              ("raw up", lambda: _raw_upload(client, size, "/bench-big/raw.bin")),
                              ("raw down", lambda: _raw_download(client, "/bench-big/raw.bin"))]:
                samples.setdefault(label, []).append(timed(fn)[0])
        save_rss, _ = peak_rss_growth(save)
        read_rss, _ = peak_rss_growth(read)
        raw_save_rss, _ = peak_rss_growth(lambda: _raw_upload(client, size, "/bench-big/raw.bin"))
        raw_read_rss, _ = peak_rss_growth(lambda: _raw_download(client, "/bench-big/raw.bin"))
    ours_up, ours_down, raw_up, raw_down = (statistics.median(samples[k])
                                            for k in ("ours up", "ours down", "raw up", "raw down"))
    up, down = throughput_mb_s(size, ours_up), throughput_mb_s(size, ours_down)
    raw_up_mb, raw_down_mb = throughput_mb_s(size, raw_up), throughput_mb_s(size, raw_down)
    mb = size // MB
    return [
        (f"peak RSS growth, save {mb} MB (MB)", save_rss),
        (f"peak RSS growth, read {mb} MB (MB)", read_rss),
        (f"peak RSS growth, raw SDK session upload {mb} MB (MB)", raw_save_rss),
        (f"peak RSS growth, raw SDK streamed download {mb} MB (MB)", raw_read_rss),
        (f"the fake's own peak RSS growth over 8 saves + 8 reads of {mb} MB (MB)", fake.growth),
        ("save MB/s: ours", up),
        ("save MB/s: raw SDK upload session", raw_up_mb),
        ("save ratio ours/raw", up / raw_up_mb),
        ("read MB/s: ours", down),
        ("read MB/s: raw SDK files_download streamed", raw_down_mb),
        ("read ratio ours/raw", down / raw_down_mb),
    ]


def small_operations(options: dict, count: int) -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile
    from dropbox.files import WriteMode

    storage = make_storage(options, root_path="/bench-small", file_overwrite=True)
    client = raw_client(options)
    storage.save("warm.txt", ContentFile(b"w"))
    client.files_get_metadata("/bench-small/warm.txt")
    payload = b"small file body " * 64

    def ours_saves():
        for i in range(count):
            storage.save(f"ours/{i}.txt", ContentFile(payload))

    def raw_saves():
        for i in range(count):
            client.files_upload(payload, f"/bench-small/raw/{i}.txt", mode=WriteMode.overwrite)

    def ours_exists():
        for i in range(count):
            storage.exists(f"ours/{i}.txt")

    def raw_exists():
        for i in range(count):
            client.files_get_metadata(f"/bench-small/raw/{i}.txt")

    samples: dict[str, list[float]] = {}
    for _ in range(5):  # interleaved, so drift hits both sides alike
        for label, fn in [("ours saves", ours_saves), ("raw saves", raw_saves),
                          ("ours exists", ours_exists), ("raw exists", raw_exists)]:
            samples.setdefault(label, []).append(timed(fn)[0])
    results = {label: statistics.median(values) for label, values in samples.items()}
    return [
        (f"{count} small saves: ours (s)", results["ours saves"]),
        (f"{count} small saves: raw files_upload (s)", results["raw saves"]),
        ("small saves ratio ours/raw", results["ours saves"] / results["raw saves"]),
        (f"{count} exists(): ours (s)", results["ours exists"]),
        (f"{count} exists(): raw files_get_metadata (s)", results["raw exists"]),
        ("exists ratio ours/raw", results["ours exists"] / results["raw exists"]),
    ]


def emulator_start() -> list[tuple[str, object]]:
    from emulators.dropbox import DropboxEmulator

    times = []
    for _ in range(3):
        emulator = DropboxEmulator()
        start = time.perf_counter()
        emulator.start()  # includes generating the TLS certificates
        times.append((time.perf_counter() - start) * 1000)
        emulator.stop()
    return [("emulator start incl. TLS certificates, median of 3 (ms)", sorted(times)[1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--small", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    with serve("dropbox") as described:
        options = described["options"]
        # The large file first: memory freed by earlier steps would hide RSS growth.
        print_rows("Dropbox: large file vs raw SDK", big_file(options, args.size_mb * MB))
        with CountingProxy(described["host"], described["port"]) as proxy:
            print_rows("Dropbox: HTTP requests per operation", requests_per_operation(options, proxy))
        print_rows("Dropbox: small operations vs raw SDK", small_operations(options, args.small))
    print_rows("Dropbox: emulator", emulator_start())


if __name__ == "__main__":
    main()
