"""Azure backend on Azurite: requests per operation, memory, throughput, small-op cost.

Run: ``python bench/bench_azure.py [--size-mb 500] [--small 200] [--repeat 3]``. Azurite runs in
its own process (``python -m emulators up azure``), so its memory is not counted.
Figures are medians where repeated; ratios compare our backend with the raw
azure-storage-blob client on the same emulator in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
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
    plain.exists("warm.txt")
    rows = []

    def count(label, fn):
        on.exists("warm.txt")  # refresh the proxy's upstream connection outside the count
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


def _operations(options: dict, size: int) -> dict:
    """The four large-file operations: ours and raw, save and read."""
    from django.core.files.base import File

    storage = make_storage(options, file_overwrite=True)
    tuned = make_storage(options, file_overwrite=True, max_memory_size=8 * MB)
    raw_blob = raw_container(options).get_blob_client("raw.bin")

    def saver(storage, name):
        return lambda: storage.save(name, File(GeneratedStream(size), name=name))

    def reader(storage, name):
        def read():
            with storage.open(name, "rb") as f:
                assert drain(f, MB) == size
        return read

    def raw_save():
        raw_blob.upload_blob(GeneratedStream(size), length=size, overwrite=True, max_concurrency=2)

    def raw_read():
        raw_blob.download_blob(max_concurrency=1).readinto(Sink())

    return {"save": saver(storage, "big.bin"), "read": reader(storage, "big.bin"),
            "raw_save": raw_save, "raw_read": raw_read,
            "save8": saver(tuned, "big8.bin"), "read8": reader(tuned, "big8.bin")}


def _warm(options: dict) -> None:
    """Create clients and import everything outside the measurements."""
    from django.core.files.base import ContentFile

    make_storage(options, file_overwrite=True).save("warm", ContentFile(b"w"))
    raw_container(options).get_blob_client("warm").get_blob_properties()


def rss_in_fresh_process(kind: str, options: dict, size: int) -> float:
    """Peak RSS growth of one operation in a new interpreter, so no earlier run has grown the heap."""
    env = {**os.environ, "BENCH_AZURE_OPTIONS": json.dumps(options)}
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--rss", kind, "--size-mb",
                          str(size // MB)], env=env, capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def big_file(options: dict, size: int, repeat: int) -> list[tuple[str, object]]:
    """Throughput (median of ``repeat``) is timed in this process, without the RSS sampler running;
    peak RSS growth is measured for each operation in a fresh process."""

    _warm(options)
    ops = _operations(options, size)
    samples: dict[str, list[float]] = {}
    for _ in range(repeat):  # interleaved, so drift in the emulator hits both sides alike
        for kind in ("save", "raw_save", "save8", "read", "raw_read", "read8"):
            samples.setdefault(kind, []).append(timed(ops[kind])[0])
    mb_s = {kind: throughput_mb_s(size, statistics.median(values)) for kind, values in samples.items()}
    rss = {kind: rss_in_fresh_process(kind, options, size) for kind in ops}

    storage = make_storage(options)
    blocks = f"{storage.part_size // MB} MB blocks, {storage.upload_max_conn} conn"
    mb = size // MB
    return [
        (f"peak RSS growth, save {mb} MB (MB)", rss["save"]),
        (f"peak RSS growth, read {mb} MB (MB)", rss["read"]),
        (f"peak RSS growth, raw upload_blob {mb} MB (MB)", rss["raw_save"]),
        (f"peak RSS growth, raw download_blob().readinto {mb} MB (MB)", rss["raw_read"]),
        (f"save MB/s: ours ({blocks})", mb_s["save"]),
        ("save MB/s: raw upload_blob (4 MB blocks, 2 conn)", mb_s["raw_save"]),
        ("save ratio ours/raw", mb_s["save"] / mb_s["raw_save"]),
        (f"read MB/s: ours ({storage.part_size // MB} MB chunks)", mb_s["read"]),
        ("read MB/s: raw download_blob().readinto (32 MB, then 4 MB chunks)", mb_s["raw_read"]),
        ("read ratio ours/raw", mb_s["read"] / mb_s["raw_read"]),
        ("with AZURE_BLOB_MAX_MEMORY_SIZE = 8 MB:", ""),
        (f"  peak RSS growth, save / read {mb} MB (MB)", f"{rss['save8']:.2f} / {rss['read8']:.2f}"),
        ("  save MB/s, ratio ours/raw", f"{mb_s['save8']:.2f}, {mb_s['save8'] / mb_s['raw_save']:.2f}"),
        ("  read MB/s, ratio ours/raw", f"{mb_s['read8']:.2f}, {mb_s['read8'] / mb_s['raw_read']:.2f}"),
    ]


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
    parser.add_argument("--repeat", type=int, default=3, help="large-file timings: median of this many")
    parser.add_argument("--rss", help=argparse.SUPPRESS)  # child mode of rss_in_fresh_process
    args = parser.parse_args()
    setup_django()
    if args.rss:
        options = json.loads(os.environ["BENCH_AZURE_OPTIONS"])
        _warm(options)
        print(peak_rss_growth(_operations(options, args.size_mb * MB)[args.rss])[0])
        return
    with serve("azure") as described:
        options = described["options"]
        endpoint = described["endpoint"]
        with CountingProxy(described["host"], described["port"]) as proxy:
            print_rows("Azure: HTTP requests per operation", requests_per_operation(options, proxy, endpoint))
        print_rows("Azure: small operations vs raw azure-storage-blob", small_operations(options, args.small))
        print_rows("Azure: large file vs raw azure-storage-blob",
                   big_file(options, args.size_mb * MB, args.repeat))
    print_rows("Azure: emulator", emulator_start())


if __name__ == "__main__":
    main()
