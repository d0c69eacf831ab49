"""GCS backend on fake-gcs-server: requests per operation, memory, throughput, small-op cost.

Run: ``python bench/bench_gcs.py [--size-mb 500] [--small 200] [--repeat 2]``. The emulator runs in
its own process (``python -m emulators up gcs``), so its memory is not counted.
Figures are medians; ratios compare our backend with the raw google-cloud-storage
client on the same emulator in the same run.

fake-gcs-server keeps objects in memory and re-hashes the whole object on every
resumable chunk, so large uploads are slow on it for both sides alike.
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
    Sink,
    drain,
    peak_rss_growth,
    print_rows,
    serve,
    throughput_mb_s,
    timed,
)

PART = 8 * MB  # the backend's default part and the raw client's chunk size


def setup_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True)
        import django

        django.setup()


def make_storage(options: dict, endpoint: str, **extra):
    from storages.backends.gcloud import GoogleCloudStorage

    return GoogleCloudStorage(**{**options, "emulator_host": endpoint, **extra})


def raw_bucket(options: dict, endpoint: str):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project=options["project_id"], credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": endpoint})
    return client.bucket(options["bucket_name"])


def requests_per_operation(options: dict, proxy: CountingProxy) -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile, File

    on = make_storage(options, proxy.endpoint, file_overwrite=True)
    off = make_storage(options, proxy.endpoint, file_overwrite=False)
    unsigned = make_storage(options, proxy.endpoint, querystring_auth=False)
    on.save("warm.txt", ContentFile(b"warm"))  # clients created outside the counts
    off.exists("warm.txt")
    unsigned.url("warm.txt")
    rows = []

    def count(label, fn):
        with proxy.counting() as counter:
            fn()
        rows.append((label, counter.count))

    count("save small, overwrite on", lambda: on.save("small.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name free", lambda: off.save("free.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name taken", lambda: off.save("free.txt", ContentFile(b"y")))
    count("save 20 MB (resumable, 8 MB parts)",
          lambda: on.save("twenty.bin", File(GeneratedStream(20 * MB), name="twenty.bin")))
    count("save 20 MB, overwrite off, name free",
          lambda: off.save("twenty-off.bin", File(GeneratedStream(20 * MB), name="x.bin")))
    count("exists", lambda: on.exists("small.txt"))
    count("size", lambda: on.size("small.txt"))
    count("get_modified_time", lambda: on.get_modified_time("small.txt"))
    count("url, signed V4", lambda: on.url("small.txt"))
    count("url, no querystring auth", lambda: unsigned.url("small.txt"))

    def open_read():
        with on.open("small.txt") as f:
            f.read()

    def open_seek_read():
        with on.open("twenty.bin") as f:
            f.read(10)
            f.seek(15 * MB)
            f.read(10)

    count("open + read", open_read)
    count("open + read + seek + read", open_seek_read)
    count("delete", lambda: on.delete("small.txt"))

    bucket = raw_bucket(options, options["emulator_host"])
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: bucket.blob(f"list/k{i:05d}").upload_from_string(b""), range(2500)))
    count("listdir of 2,500 keys", lambda: on.listdir("list"))
    return rows


def measure(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one call."""
    cpu = time.process_time()
    seconds, _ = timed(fn)
    return seconds, time.process_time() - cpu


def big_file(options: dict, size: int, repeat: int) -> list[tuple[str, object]]:
    """Saves and reads alternate between ours and raw (the order flips every round, since
    the emulator's speed drifts); the best wall time of each side is kept, and the
    median client CPU time. Peak RSS growth is measured in separate passes, without
    the sampler's cost landing in the timings."""
    from django.core.files.base import File

    storage = make_storage(options, options["emulator_host"])
    bucket = raw_bucket(options, options["emulator_host"])
    bucket.blob("warm").upload_from_string(b"w")
    storage.exists("warm")

    def save():
        storage.save("big.bin", File(GeneratedStream(size), name="big.bin"))

    def read():
        with storage.open("big.bin", "rb") as f:
            assert drain(f, MB) == size

    def raw_save():
        blob = bucket.blob("raw.bin", chunk_size=PART)
        blob.upload_from_file(GeneratedStream(size), size=size, content_type="application/octet-stream")

    def raw_download():
        bucket.blob("raw.bin").download_to_file(Sink(), raw_download=True)

    def raw_stream():
        with bucket.blob("raw.bin").open("rb", chunk_size=PART, raw_download=True) as f:
            assert drain(f, MB) == size

    runs: dict[str, list[tuple[float, float]]] = {}
    for round_ in range(repeat):
        saves = [("save", save), ("raw save", raw_save)]
        for label, fn in saves if round_ % 2 else saves[::-1]:
            runs.setdefault(label, []).append(measure(fn))
        for label, fn in [("read", read), ("raw download", raw_download), ("raw stream", raw_stream)]:
            runs.setdefault(label, []).append(measure(fn))
    best = {label: throughput_mb_s(size, min(s for s, _ in values)) for label, values in runs.items()}
    cpu = {label: statistics.median(c for _, c in values) * 100 * MB / size for label, values in runs.items()}
    save_rss, _ = peak_rss_growth(save)
    read_rss, _ = peak_rss_growth(read)
    raw_save_rss, _ = peak_rss_growth(raw_save)
    raw_stream_rss, _ = peak_rss_growth(raw_stream)
    best_raw_read = max(best["raw download"], best["raw stream"])
    return [
        (f"peak RSS growth, save {size // MB} MB (MB)", save_rss),
        (f"peak RSS growth, read {size // MB} MB (MB)", read_rss),
        (f"peak RSS growth, raw upload_from_file {size // MB} MB (MB)", raw_save_rss),
        (f"peak RSS growth, raw blob.open('rb') {size // MB} MB (MB)", raw_stream_rss),
        (f"save MB/s: ours (best of {repeat})", best["save"]),
        ("save MB/s: raw upload_from_file, 8 MB chunks", best["raw save"]),
        ("save ratio ours/raw", best["save"] / best["raw save"]),
        ("save client CPU s per 100 MB: ours", cpu["save"]),
        ("save client CPU s per 100 MB: raw", cpu["raw save"]),
        (f"read MB/s: ours (best of {repeat})", best["read"]),
        ("read MB/s: raw download_to_file", best["raw download"]),
        ("read MB/s: raw blob.open('rb')", best["raw stream"]),
        ("read ratio ours/best raw", best["read"] / best_raw_read),
        ("read client CPU s per 100 MB: ours", cpu["read"]),
        ("read client CPU s per 100 MB: raw download_to_file", cpu["raw download"]),
    ]


def small_operations(options: dict, count: int) -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile

    storage = make_storage(options, options["emulator_host"], file_overwrite=True)
    bucket = raw_bucket(options, options["emulator_host"])
    storage.save("warm.txt", ContentFile(b"w"))
    bucket.get_blob("warm.txt")
    payload = b"small file body " * 64

    def ours_saves():
        for i in range(count):
            storage.save(f"small/{i}.txt", ContentFile(payload))

    def raw_saves():
        for i in range(count):
            bucket.blob(f"raw/{i}.txt").upload_from_string(payload, content_type="text/plain")

    def ours_exists():
        for i in range(count):
            storage.exists(f"small/{i}.txt")

    def raw_exists():
        for i in range(count):
            bucket.get_blob(f"raw/{i}.txt")

    # Interleaved repeats, so drift in the emulator hits both sides alike.
    samples: dict[str, list[float]] = {}
    for _ in range(5):
        for label, fn in [("ours saves", ours_saves), ("raw saves", raw_saves),
                          ("ours exists", ours_exists), ("raw exists", raw_exists)]:
            samples.setdefault(label, []).append(timed(fn)[0])
    results = {label: statistics.median(values) for label, values in samples.items()}
    return [
        (f"{count} small saves: ours (s)", results["ours saves"]),
        (f"{count} small saves: raw upload_from_string (s)", results["raw saves"]),
        ("small saves ratio ours/raw", results["ours saves"] / results["raw saves"]),
        (f"{count} exists(): ours (s)", results["ours exists"]),
        (f"{count} exists(): raw get_blob (s)", results["raw exists"]),
        ("exists ratio ours/raw", results["ours exists"] / results["raw exists"]),
    ]


def emulator_start() -> list[tuple[str, object]]:
    from emulators.gcs import GCSEmulator

    times = []
    program = ""
    for _ in range(3):
        emulator = GCSEmulator()
        start = time.perf_counter()
        emulator.start()
        times.append(time.perf_counter() - start)
        program = emulator.program or ""
        emulator.stop()
    return [(f"emulator ({program}) start, median of 3 (s)", sorted(times)[1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--small", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=2, help="rounds of the big-file save/read")
    args = parser.parse_args()
    setup_django()
    with serve("gcs") as described:
        options = described["options"]
        with CountingProxy(described["host"], described["port"]) as proxy:
            print_rows("GCS: requests per operation", requests_per_operation(options, proxy))
        print_rows("GCS: small operations", small_operations(options, args.small))
        print_rows(f"GCS: {args.size_mb} MB file", big_file(options, args.size_mb * MB, args.repeat))
    print_rows("GCS: emulator", emulator_start())


if __name__ == "__main__":
    main()
