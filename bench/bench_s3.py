"""S3 backend on the moto emulator: requests per operation, memory, throughput, small-op cost.

Run: ``python bench/bench_s3.py [--size-mb 500] [--small 200]``. The emulator runs
in its own process (``python -m emulators up s3``), so its memory is not counted.
Figures are medians; ratios compare our backend with raw boto3 on the same
emulator in the same run.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import MB, Row


def make_storage(options: dict, endpoint: str, **extra):
    from storages.backends.s3 import S3Storage

    return S3Storage(**{**options, "endpoint_url": endpoint, **extra})


def raw_client(options: dict, endpoint: str):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=options["access_key"],
                        aws_secret_access_key=options["secret_key"], region_name=options["region_name"],
                        config=Config(s3={"addressing_style": "path"}, max_pool_connections=32))


def requests_per_operation(options: dict, proxy: common.CountingProxy) -> list[Row]:
    on, off, unsigned = common.warmed_storages(lambda **kw: make_storage(options, proxy.endpoint, **kw),
                                               {"querystring_auth": False})
    count = common.RequestCounter(proxy)
    common.count_small_saves(count, on, off)
    common.count_metadata(count, on, modified_time=False)
    count("url, querystring auth", lambda: on.url("small.txt"))
    count("url, no querystring auth", lambda: unsigned.url("small.txt"))
    count("open + read", lambda: common.read_whole(on, "small.txt"))
    count("delete", lambda: on.delete("small.txt"))

    client = raw_client(options, options["endpoint_url"])
    common.fill(lambda i: client.put_object(Bucket=on.bucket_name, Key=f"list/k{i:05d}", Body=b""), 2500)
    count("listdir of 2,500 keys", lambda: on.listdir("list"))
    return count.rows


def big_file(options: dict, size: int) -> list[Row]:
    """Throughput is timed without the RSS sampler running (it costs CPU), on both sides;
    peak RSS growth is measured in separate passes."""
    storage = make_storage(options, options["endpoint_url"])
    client = raw_client(options, options["endpoint_url"])
    bucket = storage.bucket_name
    client.put_object(Bucket=bucket, Key="warm", Body=b"w")
    storage.exists("warm")
    save, read = common.big_save_and_read(storage, size)

    def raw_upload():
        client.upload_fileobj(common.GeneratedStream(size), bucket, "raw.bin")

    def raw_stream():
        common.drain(client.get_object(Bucket=bucket, Key="raw.bin")["Body"], MB)

    # One run of each, in turn (not interleaved); RSS afterwards, in separate passes.
    seconds = {label: common.timed(fn)[0] for label, fn in [
        ("ours up", save), ("ours down", read), ("raw up", raw_upload),
        ("raw download_fileobj", lambda: client.download_fileobj(bucket, "raw.bin", common.Sink())),
        ("raw streamed", raw_stream)]}
    mb_s = {label: common.throughput_mb_s(size, value) for label, value in seconds.items()}
    rss = {"save": common.peak_rss_growth(save)[0], "read": common.peak_rss_growth(read)[0],
           "raw upload_fileobj": common.peak_rss_growth(raw_upload)[0]}
    return [
        *common.peak_rss_rows(size, rss),
        *common.throughput_vs_raw("save", mb_s["ours up"], {"upload_fileobj": mb_s["raw up"]}),
        *common.throughput_vs_raw("read", mb_s["ours down"],
                                  {"download_fileobj": mb_s["raw download_fileobj"],
                                   "get_object()['Body'] streamed": mb_s["raw streamed"]}),
    ]


def small_operations(options: dict, count: int) -> list[Row]:
    from django.core.files.base import ContentFile

    storage = make_storage(options, options["endpoint_url"], file_overwrite=True)
    client = raw_client(options, options["endpoint_url"])
    bucket = storage.bucket_name
    storage.save("warm.txt", ContentFile(b"w"))
    client.head_object(Bucket=bucket, Key="warm.txt")
    return common.small_ops_vs_raw(
        count, storage,
        raw_save=(lambda i, body: client.put_object(Bucket=bucket, Key=f"raw/{i}.txt", Body=body,
                                                    ContentType="text/plain"), "put_object"),
        raw_exists=(lambda i: client.head_object(Bucket=bucket, Key=f"raw/{i}.txt"), "head_object"),
    )


def main() -> None:
    args = common.bench_parser(__doc__, small=200).parse_args()
    common.setup_django()
    with common.serve("s3") as described:
        options = described["options"]
        with common.CountingProxy(described["host"], described["port"]) as proxy:
            common.print_rows("S3: HTTP requests per operation", requests_per_operation(options, proxy))
        common.print_rows("S3: small operations vs raw boto3", small_operations(options, args.small))
        common.print_rows("S3: large file vs raw boto3", big_file(options, args.size_mb * MB))
    from emulators.s3 import S3Emulator  # only now: importing moto hooks into every boto3 client

    common.print_rows("S3: emulator", common.emulator_start_rows(S3Emulator))


if __name__ == "__main__":
    main()
