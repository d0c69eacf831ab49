"""Azure backend on Azurite: requests per operation, memory, throughput, small-op cost.

Run: ``python bench/bench_azure.py [--size-mb 500] [--small 200]``. Azurite runs in
its own process (``python -m emulators up azure``), so its memory is not counted.
Figures are medians where repeated; ratios compare our backend with the raw
azure-storage-blob client on the same emulator in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import (  # noqa: E402
    MB, CountingProxy, GeneratedStream, Sink, drain, peak_rss_growth, print_rows,
    serve, throughput_mb_s, timed,
)


def setup_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True)
        import django

        django.setup()


def make_storage(options: dict, **extra):
    from storages.backends.azure_storage import AzureStorage

    return AzureStorage(**{**options, **extra})


def via(options: dict, endpoint: str, target: str) -> dict:
    """The same OPTIONS with the connection string pointed at ``target`` instead of ``endpoint``."""
    return {**options, "connection_string": options["connection_string"].replace(endpoint, target)}


def raw_container(options: dict):
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(options["connection_string"])
    return service.get_container_client(options["azure_container"])


def requests_per_operation(options: dict, proxy: CountingProxy, endpoint: str) -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile

    proxied = via(options, endpoint, proxy.endpoint)
    on = make_storage(proxied, file_overwrite=True)
    off = make_storage(proxied, file_overwrite=False)
    plain = make_storage(proxied, expiration_secs=None)
    on.save("warm.txt", ContentFile(b"warm"))  # clients created outside the counts
    off.exists("warm.txt")
    rows = []

    def count(label, fn):
        with proxy.counting() as counter:
            fn()
        rows.append((label, counter.count))

    count("save small, overwrite on", lambda: on.save("small.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name free", lambda: off.save("free.txt", ContentFile(b"x" * 1000)))
    count("save small, overwrite off, name taken", lambda: off.save("free.txt", ContentFile(b"y")))
    count(f"save 9 MB ({on.part_size // MB} MB blocks)",
          lambda: on.save("nine.bin", ContentFile(b"z" * 9 * MB)))
    count("exists", lambda: on.exists("small.txt"))
    count("size", lambda: on.size("small.txt"))
    count("get_modified_time", lambda: on.get_modified_time("small.txt"))
    count("url, SAS (account key)", lambda: on.url("small.txt"))
    count("url, plain", lambda: plain.url("small.txt"))

    def open_read():
        with on.open("small.txt") as f:
            f.read()

    count("open + read", open_read)
    count("delete", lambda: on.delete("small.txt"))

    from concurrent.futures import ThreadPoolExecutor

    container = raw_container(options)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: container.upload_blob(f"list/k{i:05d}", b""), range(6000)))
    count("listdir of 6,000 blobs (pages of 5,000)", lambda: on.listdir("list"))
    return rows


def big_file(options: dict, size: int) -> list[tuple[str, object]]:
    """Throughput is timed without the RSS sampler running (it costs CPU), on both sides;
    peak RSS growth is measured in separate passes."""
    from django.core.files.base import File

    storage = make_storage(options, file_overwrite=True)
    container = raw_container(options)
    container.upload_blob("warm", b"w", overwrite=True)
    storage.exists("warm")
    raw_blob = container.get_blob_client("raw.bin")

    def save():
        storage.save("big.bin", File(GeneratedStream(size), name="big.bin"))

    def read():
        with storage.open("big.bin", "rb") as f:
            assert drain(f, MB) == size

    def raw_save():
        raw_blob.upload_blob(GeneratedStream(size), length=size, overwrite=True, max_concurrency=2)

    def raw_read():
        raw_blob.download_blob(max_concurrency=1).readinto(Sink())

    ours_up, _ = timed(save)
    ours_down, _ = timed(read)
    raw_up, _ = timed(raw_save)
    raw_down, _ = timed(raw_read)
    save_rss, _ = peak_rss_growth(save)
    read_rss, _ = peak_rss_growth(read)
    raw_save_rss, _ = peak_rss_growth(raw_save)
    raw_read_rss, _ = peak_rss_growth(raw_read)

    up, down = throughput_mb_s(size, ours_up), throughput_mb_s(size, ours_down)
    raw_up_mb, raw_down_mb = throughput_mb_s(size, raw_up), throughput_mb_s(size, raw_down)
    rows = [
        (f"peak RSS growth, save {size // MB} MB (MB)", save_rss),
        (f"peak RSS growth, read {size // MB} MB (MB)", read_rss),
        (f"peak RSS growth, raw upload_blob {size // MB} MB (MB)", raw_save_rss),
        (f"peak RSS growth, raw download_blob().readinto {size // MB} MB (MB)", raw_read_rss),
        (f"save MB/s: ours ({storage.part_size // MB} MB blocks, {storage.upload_max_conn} conn)", up),
        ("save MB/s: raw upload_blob (4 MB blocks, 2 conn)", raw_up_mb),
        ("save ratio ours/raw", up / raw_up_mb),
        ("read MB/s: ours", down),
        ("read MB/s: raw download_blob().readinto", raw_down_mb),
        ("read ratio ours/raw", down / raw_down_mb),
    ]
    tuned = make_storage(options, file_overwrite=True, max_memory_size=8 * MB)
    tuned_up, _ = timed(lambda: tuned.save("big8.bin", File(GeneratedStream(size), name="big8.bin")))
    rows.append(("save MB/s: ours with AZURE_BLOB_MAX_MEMORY_SIZE = 8 MB", throughput_mb_s(size, tuned_up)))
    return rows


def small_operations(options: dict, count: int) -> list[tuple[str, object]]:
    from azure.storage.blob import ContentSettings
    from django.core.files.base import ContentFile

    storage = make_storage(options, file_overwrite=True)
    container = raw_container(options)
    storage.save("warm.txt", ContentFile(b"w"))
    container.get_blob_client("warm.txt").get_blob_properties()
    payload = b"small file body " * 64
    settings = ContentSettings(content_type="text/plain")

    def ours_saves():
        for i in range(count):
            storage.save(f"small/{i}.txt", ContentFile(payload))

    def raw_saves():
        for i in range(count):
            container.upload_blob(f"raw/{i}.txt", payload, overwrite=True, content_settings=settings)

    def ours_exists():
        for i in range(count):
            storage.exists(f"small/{i}.txt")

    def raw_exists():
        for i in range(count):
            container.get_blob_client(f"raw/{i}.txt").get_blob_properties()

    # Interleaved repeats, so drift in the emulator (growing state, other load) hits both sides alike.
    samples: dict[str, list[float]] = {}
    for _ in range(5):
        for label, fn in [("ours saves", ours_saves), ("raw saves", raw_saves),
                          ("ours exists", ours_exists), ("raw exists", raw_exists)]:
            samples.setdefault(label, []).append(timed(fn)[0])
    results = {label: statistics.median(values) for label, values in samples.items()}
    return [
        (f"{count} small saves: ours (s)", results["ours saves"]),
        (f"{count} small saves: raw upload_blob (s)", results["raw saves"]),
        ("small saves ratio ours/raw", results["ours saves"] / results["raw saves"]),
        (f"{count} exists(): ours (s)", results["ours exists"]),
        (f"{count} exists(): raw get_blob_properties (s)", results["raw exists"]),
        ("exists ratio ours/raw", results["ours exists"] / results["raw exists"]),
    ]


def emulator_start() -> list[tuple[str, object]]:
    from emulators.azure import AzureEmulator

    times = []
    for _ in range(3):
        emulator = AzureEmulator()
        start = time.perf_counter()
        emulator.start()
        times.append(time.perf_counter() - start)
        emulator.stop()
    return [("emulator start, median of 3 (s)", sorted(times)[1])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--small", type=int, default=200)
    args = parser.parse_args()
    setup_django()
    with serve("azure") as described:
        options = described["options"]
        endpoint = described["endpoint"]
        with CountingProxy(described["host"], described["port"]) as proxy:
            print_rows("Azure: HTTP requests per operation", requests_per_operation(options, proxy, endpoint))
        print_rows("Azure: small operations vs raw azure-storage-blob", small_operations(options, args.small))
        print_rows("Azure: large file vs raw azure-storage-blob", big_file(options, args.size_mb * MB))
    print_rows("Azure: emulator", emulator_start())


if __name__ == "__main__":
    main()
