"""Libcloud backend: requests per operation (libcloud's S3 driver on the moto emulator),
peak RSS growth and throughput for a large save and read (S3 driver and local driver).

Run: ``python bench/bench_libcloud.py [--size-mb 500] [--skip-local]``. The S3 emulator
runs in its own process (``python -m emulators up s3``), so its memory is not counted.
Ratios compare our backend with the raw libcloud driver (``upload_object_via_stream`` /
``download_object_as_stream``) on the same emulator in the same run.
"""

from __future__ import annotations

import argparse
import os
import sys

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


def setup_django() -> None:
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_TZ=True)
        import django

        django.setup()


def s3_storage(host: str, port: int, bucket: str, **options):
    from emulators.libcloud import options_for
    from emulators.s3 import ACCESS_KEY, REGION, SECRET_KEY
    from storages.backends.apache_libcloud import LibCloudStorage

    provider = {"type": "libcloud.storage.types.Provider.S3", "key": ACCESS_KEY, "secret": SECRET_KEY,
                "bucket": bucket, "host": host, "port": port, "secure": False, "region": REGION}
    return LibCloudStorage(**options_for(provider), **options)


def requests_per_operation(host: str, port: int) -> list[tuple[str, object]]:
    from django.core.files.base import ContentFile

    rows: list[tuple[str, object]] = []
    with CountingProxy(host, port) as proxy:
        on = s3_storage("127.0.0.1", proxy.port, "bench-counts", file_overwrite=True)
        off = s3_storage("127.0.0.1", proxy.port, "bench-counts", file_overwrite=False)
        on.driver.create_container("bench-counts")

        def count(label, fn):
            with proxy.counting() as counter:
                fn()
            methods = " ".join(m for m, _ in counter.requests)
            rows.append((label, f"{len(counter.requests)}  ({methods})"))

        def open_read():
            with on.open("small.txt") as f:
                f.read()

        count("save small, overwrite on", lambda: on.save("small.txt", ContentFile(b"x" * 1000)))
        count("save small, overwrite off, name free", lambda: off.save("free.txt", ContentFile(b"x")))
        count("save small, overwrite off, name taken", lambda: off.save("free.txt", ContentFile(b"y")))
        count("save empty, overwrite on", lambda: on.save("empty.txt", ContentFile(b"")))
        twelve = b"z" * (12 * MB)
        count("save 12 MB, overwrite on", lambda: on.save("12mb.bin", ContentFile(twelve)))
        count("save 12 MB, overwrite off, name free", lambda: off.save("12mb-free.bin", ContentFile(twelve)))
        count("save 12 MB, overwrite off, name taken", lambda: off.save("12mb.bin", ContentFile(twelve)))
        count("exists", lambda: on.exists("small.txt"))
        count("size", lambda: on.size("small.txt"))
        count("url (presigned)", lambda: on.url("small.txt"))
        count("open + read", open_read)
        count("delete", lambda: on.delete("small.txt"))
        from concurrent.futures import ThreadPoolExecutor

        direct = s3_storage(host, port, "bench-counts")  # not counted: the keys to list

        def put(i: int) -> None:
            direct.driver.upload_object_via_stream(iter([b""]), direct._container(), f"list/k{i:05d}")

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(put, range(2500)))
        with proxy.counting() as counter:
            dirs, files = on.listdir("list")
        rows.append(("listdir of 2,500 keys",
                     f"{len(counter.requests)}  (GET pages of 1,000, prefix 'list/')"))
        assert len(files) == 2500
        with proxy.counting() as counter:
            on.listdir("other")
        rows.append(("listdir of an empty prefix beside them", len(counter.requests)))
    return rows


def big_file(make_storage, size: int, label: str, raw=True) -> list[tuple[str, object]]:
    from django.core.files.base import File

    storage = make_storage()
    seconds = {}

    def save():
        source = File(GeneratedStream(size), name="big.bin")
        seconds["save"], _ = timed(lambda: storage.save("big.bin", source))

    def read():
        def go():
            with storage.open("big.bin", "rb") as f:
                return drain(f, MB)
        seconds["read"], n = timed(go)
        assert n == size, (n, size)

    save_rss, _ = peak_rss_growth(save)
    read_rss, _ = peak_rss_growth(read)
    rows = [
        (f"{label}: peak RSS growth, save {size // MB} MB (MB)", save_rss),
        (f"{label}: peak RSS growth, read {size // MB} MB (MB)", read_rss),
        (f"{label}: save MB/s, ours", throughput_mb_s(size, seconds["save"])),
        (f"{label}: read MB/s, ours", throughput_mb_s(size, seconds["read"])),
    ]
    if raw:
        driver, container = storage.driver, storage._container()
        source = GeneratedStream(size)
        up, _ = timed(lambda: driver.upload_object_via_stream(iter(lambda: source.read(MB), b""),
                                                              container, "raw.bin"))
        obj = driver.get_object(storage.bucket, "raw.bin")
        down, n = timed(lambda: sum(len(c) for c in driver.download_object_as_stream(obj)))
        assert n == size
        ours_up, ours_down = throughput_mb_s(size, seconds["save"]), throughput_mb_s(size, seconds["read"])
        rows += [
            (f"{label}: save MB/s, raw upload_object_via_stream", throughput_mb_s(size, up)),
            (f"{label}: save ratio ours/raw", ours_up / throughput_mb_s(size, up)),
            (f"{label}: read MB/s, raw download_object_as_stream", throughput_mb_s(size, down)),
            (f"{label}: read ratio ours/raw", ours_down / throughput_mb_s(size, down)),
        ]
    storage.delete("big.bin")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--skip-local", action="store_true")
    args = parser.parse_args()
    setup_django()
    size = args.size_mb * MB
    with serve("s3") as s3:
        host, port = s3["host"], s3["port"]
        print_rows("requests per operation (libcloud S3 driver -> moto, counted by a proxy)",
                   requests_per_operation(host, port))

        def make():
            storage = s3_storage(host, port, "bench-big", file_overwrite=True)
            storage.driver.create_container("bench-big")
            return storage

        print_rows(f"{args.size_mb} MB through libcloud's S3 driver (moto in another process)",
                   big_file(make, size, "s3"))
    if not args.skip_local:
        from emulators.libcloud import LibcloudEmulator
        from storages.backends.apache_libcloud import LibCloudStorage

        with LibcloudEmulator() as local:
            print_rows(f"{args.size_mb} MB through libcloud's local driver",
                       big_file(lambda: LibCloudStorage(**local.new_namespace(), file_overwrite=True),
                                size, "local"))


if __name__ == "__main__":
    main()
