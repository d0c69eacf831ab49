"""Libcloud backend: requests per operation (libcloud's S3 driver on the moto emulator),
peak RSS growth and throughput for a large save and read (S3 driver and local driver).

Run: ``python bench/bench_libcloud.py [--size-mb 500] [--skip-local]``. The S3 emulator
runs in its own process (``python -m emulators up s3``), so its memory is not counted.
Ratios compare our backend with the raw libcloud driver (``upload_object_via_stream`` /
``download_object_as_stream``) on the same emulator in the same run.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import MB, Row


def s3_storage(host: str, port: int, bucket: str, **options):
    from emulators.libcloud import options_for
    from emulators.s3 import ACCESS_KEY, REGION, SECRET_KEY
    from storages.backends.apache_libcloud import LibCloudStorage

    provider = {"type": "libcloud.storage.types.Provider.S3", "key": ACCESS_KEY, "secret": SECRET_KEY,
                "bucket": bucket, "host": host, "port": port, "secure": False, "region": REGION}
    return LibCloudStorage(**options_for(provider), **options)


def requests_per_operation(host: str, port: int) -> list[Row]:
    from django.core.files.base import ContentFile

    rows: list[Row] = []
    with common.CountingProxy(host, port) as proxy:
        on = s3_storage("127.0.0.1", proxy.port, "bench-counts", file_overwrite=True)
        off = s3_storage("127.0.0.1", proxy.port, "bench-counts", file_overwrite=False)
        on.driver.create_container("bench-counts")

        def count(label, fn):
            with proxy.counting() as counter:
                fn()
            methods = " ".join(m for m, _ in counter.requests)
            rows.append((label, f"{len(counter.requests)}  ({methods})"))

        common.count_small_saves(count, on, off)
        count("save empty, overwrite on", lambda: on.save("empty.txt", ContentFile(b"")))
        twelve = b"z" * (12 * MB)
        count("save 12 MB, overwrite on", lambda: on.save("12mb.bin", ContentFile(twelve)))
        count("save 12 MB, overwrite off, name free", lambda: off.save("12mb-free.bin", ContentFile(twelve)))
        count("save 12 MB, overwrite off, name taken", lambda: off.save("12mb.bin", ContentFile(twelve)))
        common.count_metadata(count, on, modified_time=False)
        count("url (presigned)", lambda: on.url("small.txt"))
        count("open + read", lambda: common.read_whole(on, "small.txt"))
        count("delete", lambda: on.delete("small.txt"))
        direct = s3_storage(host, port, "bench-counts")  # not counted: the keys to list
        common.fill(lambda i: direct.driver.upload_object_via_stream(iter([b""]), direct._container(),
                                                                      f"list/k{i:05d}"), 2500, threads=8)
        with proxy.counting() as counter:
            dirs, files = on.listdir("list")
        rows.append(("listdir of 2,500 keys",
                     f"{len(counter.requests)}  (GET pages of 1,000, prefix 'list/')"))
        assert len(files) == 2500
        with proxy.counting() as counter:
            on.listdir("other")
        rows.append(("listdir of an empty prefix beside them", len(counter.requests)))
    return rows


def big_file(make_storage, size: int, label: str, raw=True) -> list[Row]:
    """Ours: one save and one read, each timed inside its peak-RSS pass (so the sampler runs
    during those timings); raw driver: one upload and one download, timed without it."""
    from django.core.files.base import File

    storage = make_storage()
    seconds = {}

    def save():
        source = File(common.GeneratedStream(size), name="big.bin")
        seconds["save"], _ = common.timed(lambda: storage.save("big.bin", source))

    def read():
        def go():
            with storage.open("big.bin", "rb") as f:
                return common.drain(f, MB)
        seconds["read"], n = common.timed(go)
        assert n == size, (n, size)

    save_rss, _ = common.peak_rss_growth(save)
    read_rss, _ = common.peak_rss_growth(read)
    ours = {op: common.throughput_mb_s(size, value) for op, value in seconds.items()}
    rows = [
        (f"{label}: peak RSS growth, save {size // MB} MB (MB)", save_rss),
        (f"{label}: peak RSS growth, read {size // MB} MB (MB)", read_rss),
        (f"{label}: save MB/s, ours", ours["save"]),
        (f"{label}: read MB/s, ours", ours["read"]),
    ]
    if raw:
        driver, container = storage.driver, storage._container()
        source = common.GeneratedStream(size)
        up, _ = common.timed(lambda: driver.upload_object_via_stream(iter(lambda: source.read(MB), b""),
                                                                     container, "raw.bin"))
        obj = driver.get_object(storage.bucket, "raw.bin")
        down, n = common.timed(lambda: sum(len(c) for c in driver.download_object_as_stream(obj)))
        assert n == size
        raw_up, raw_down = common.throughput_mb_s(size, up), common.throughput_mb_s(size, down)
        rows += [
            (f"{label}: save MB/s, raw upload_object_via_stream", raw_up),
            (f"{label}: save ratio ours/raw", ours["save"] / raw_up),
            (f"{label}: read MB/s, raw download_object_as_stream", raw_down),
            (f"{label}: read ratio ours/raw", ours["read"] / raw_down),
        ]
    storage.delete("big.bin")
    return rows


def main() -> None:
    parser = common.bench_parser(__doc__)
    parser.add_argument("--skip-local", action="store_true")
    args = parser.parse_args()
    common.setup_django()
    size = args.size_mb * MB
    with common.serve("s3") as s3:
        host, port = s3["host"], s3["port"]
        common.print_rows("requests per operation (libcloud S3 driver -> moto, counted by a proxy)",
                   requests_per_operation(host, port))

        def make():
            storage = s3_storage(host, port, "bench-big", file_overwrite=True)
            storage.driver.create_container("bench-big")
            return storage

        common.print_rows(f"{args.size_mb} MB through libcloud's S3 driver (moto in another process)",
                   big_file(make, size, "s3"))
    if not args.skip_local:
        from emulators.libcloud import LibcloudEmulator
        from storages.backends.apache_libcloud import LibCloudStorage

        with LibcloudEmulator() as local:
            common.print_rows(f"{args.size_mb} MB through libcloud's local driver",
                       big_file(lambda: LibCloudStorage(**local.new_namespace(), file_overwrite=True),
                                size, "local"))


if __name__ == "__main__":
    main()
