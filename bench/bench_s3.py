"""S3 backend on the moto emulator: requests per operation, memory, throughput, small-op cost.

Run: ``python bench/bench_s3.py [--size-mb 500] [--small 200]``. The emulator runs
in its own process (``python -m emulators up s3``), so its memory is not counted.
Figures are medians; ratios compare our backend with raw boto3 on the same
emulator in the same run.
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


def setup_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True)
        import django

        django.setup()


def make_storage(options: dict, endpoint: str, **extra):
    from storages.backends.s3 import S3Storage

    return S3Storage(**{**options, "endpoint_url": endpoint, **extra})


def raw_client(options: dict, endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=options["access_key"],
                        aws_secret_access_key=options["secret_key"], region_name=options["region_name"],
                        config=Config(s3={"addressing_style": "path"}, max_pool_connections=32))


def requests_per_operation(options: dict, proxy: CountingProxy) -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile

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
    count("exists", lambda: on.exists("small.txt"))
    count("size", lambda: on.size("small.txt"))
    count("url, querystring auth", lambda: on.url("small.txt"))
    count("url, no querystring auth", lambda: unsigned.url("small.txt"))

    def open_read():
        with on.open("small.txt") as f:
            f.read()

    count("open + read", open_read)
    count("delete", lambda: on.delete("small.txt"))

    client = raw_client(options, options["endpoint_url"])
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: client.put_object(Bucket=on.bucket, Key=f"list/k{i:05d}", Body=b""),
                      range(2500)))
    count("listdir of 2,500 keys", lambda: on.listdir("list"))
    return rows


def big_file(options: dict, size: int) -> list[tuple[str, object]]:
    """Throughput is timed without the RSS sampler running (it costs CPU), on both sides;
    peak RSS growth is measured in separate passes."""
    from django.core.files.base import File

    storage = make_storage(options, options["endpoint_url"])
    client = raw_client(options, options["endpoint_url"])
    bucket = storage.bucket
    client.put_object(Bucket=bucket, Key="warm", Body=b"w")
    storage.exists("warm")

    def save():
        storage.save("big.bin", File(GeneratedStream(size), name="big.bin"))

    def read():
        with storage.open("big.bin", "rb") as f:
            assert drain(f, MB) == size

    ours_up, _ = timed(save)
    ours_down, _ = timed(read)
    raw_up, _ = timed(lambda: client.upload_fileobj(GeneratedStream(size), bucket, "raw.bin"))
    raw_down_fileobj, _ = timed(lambda: client.download_fileobj(bucket, "raw.bin", Sink()))
    raw_down_stream, _ = timed(lambda: drain(client.get_object(Bucket=bucket, Key="raw.bin")["Body"], MB))
    save_rss, _ = peak_rss_growth(save)
    read_rss, _ = peak_rss_growth(read)
    raw_save_rss, _ = peak_rss_growth(
        lambda: client.upload_fileobj(GeneratedStream(size), bucket, "raw.bin"))

    up, down = throughput_mb_s(size, ours_up), throughput_mb_s(size, ours_down)
    raw_up_mb = throughput_mb_s(size, raw_up)
    best_raw_down = max(throughput_mb_s(size, raw_down_fileobj), throughput_mb_s(size, raw_down_stream))
    return [
        (f"peak RSS growth, save {size // MB} MB (MB)", save_rss),
        (f"peak RSS growth, read {size // MB} MB (MB)", read_rss),
        (f"peak RSS growth, raw upload_fileobj {size // MB} MB (MB)", raw_save_rss),
        ("save MB/s: ours", up),
        ("save MB/s: raw upload_fileobj", raw_up_mb),
        ("save ratio ours/raw", up / raw_up_mb),
        ("read MB/s: ours", down),
        ("read MB/s: raw download_fileobj", throughput_mb_s(size, raw_down_fileobj)),
        ("read MB/s: raw get_object()['Body'] streamed", throughput_mb_s(size, raw_down_stream)),
        ("read ratio ours/best raw", down / best_raw_down),
    ]


def small_operations(options: dict, count: int) -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile

    storage = make_storage(options, options["endpoint_url"], file_overwrite=True)
    client = raw_client(options, options["endpoint_url"])
    bucket = storage.bucket
    storage.save("warm.txt", ContentFile(b"w"))
    client.head_object(Bucket=bucket, Key="warm.txt")
    payload = b"small file body " * 64

    def ours_saves():
        for i in range(count):
            storage.save(f"small/{i}.txt", ContentFile(payload))

    def raw_saves():
        for i in range(count):
            client.put_object(Bucket=bucket, Key=f"raw/{i}.txt", Body=payload, ContentType="text/plain")

    def ours_exists():
        for i in range(count):
            storage.exists(f"small/{i}.txt")

    def raw_exists():
        for i in range(count):
            client.head_object(Bucket=bucket, Key=f"raw/{i}.txt")

    # Interleaved repeats, so drift in the emulator (growing state, other load) hits both sides alike.
    samples: dict[str, list[float]] = {}
    for _ in range(5):
        for label, fn in [("ours saves", ours_saves), ("raw saves", raw_saves),
                          ("ours exists", ours_exists), ("raw exists", raw_exists)]:
            samples.setdefault(label, []).append(timed(fn)[0])
    results = {label: statistics.median(values) for label, values in samples.items()}
    return [
        (f"{count} small saves: ours (s)", results["ours saves"]),
        (f"{count} small saves: raw put_object (s)", results["raw saves"]),
        ("small saves ratio ours/raw", results["ours saves"] / results["raw saves"]),
        (f"{count} exists(): ours (s)", results["ours exists"]),
        (f"{count} exists(): raw head_object (s)", results["raw exists"]),
        ("exists ratio ours/raw", results["ours exists"] / results["raw exists"]),
    ]


def emulator_start() -> list[tuple[str, object]]:
    from emulators.s3 import S3Emulator

    times = []
    for _ in range(3):
        emulator = S3Emulator()
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
    with serve("s3") as described:
        options = described["options"]
        with CountingProxy(described["host"], described["port"]) as proxy:
            print_rows("S3: HTTP requests per operation", requests_per_operation(options, proxy))
        print_rows("S3: small operations vs raw boto3", small_operations(options, args.small))
        print_rows("S3: large file vs raw boto3", big_file(options, args.size_mb * MB))
    print_rows("S3: emulator", emulator_start())


if __name__ == "__main__":
    main()
