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
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import MB, Row


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


def requests_per_operation(options: dict, proxy: common.CountingProxy, endpoint: str) -> list[Row]:
    from django.core.files.base import ContentFile

    proxied = via(options, endpoint, proxy.endpoint)
    on, off, plain = common.warmed_storages(lambda **kw: make_storage(proxied, **kw),
                                            {"expiration_secs": None})
    # Each count first refreshes the proxy's upstream connection, outside the count.
    count = common.RequestCounter(proxy, before=lambda: on.exists("warm.txt"))
    common.count_small_saves(count, on, off)
    count(f"save 9 MB ({on.part_size // MB} MB blocks)",
          lambda: on.save("nine.bin", ContentFile(b"z" * 9 * MB)))
    common.count_metadata(count, on)
    count("url, SAS (account key)", lambda: on.url("small.txt"))
    count("url, plain", lambda: plain.url("small.txt"))
    count("open + read", lambda: common.read_whole(on, "small.txt"))
    count("delete", lambda: on.delete("small.txt"))

    container = raw_container(options)
    common.fill(lambda i: container.upload_blob(f"list/k{i:05d}", b""), 6000)
    count("listdir of 6,000 blobs (pages of 5,000)", lambda: on.listdir("list"))
    return count.rows


def _operations(options: dict, size: int) -> dict:
    """The large-file operations: ours (default, and max_memory_size 8 MB) and raw, save and read."""
    save, read = common.big_save_and_read(make_storage(options, file_overwrite=True), size, "big.bin")
    tuned = make_storage(options, file_overwrite=True, max_memory_size=8 * MB)
    save8, read8 = common.big_save_and_read(tuned, size, "big8.bin")
    raw_blob = raw_container(options).get_blob_client("raw.bin")

    def raw_save():
        raw_blob.upload_blob(common.GeneratedStream(size), length=size, overwrite=True, max_concurrency=2)

    def raw_read():
        raw_blob.download_blob(max_concurrency=1).readinto(common.Sink())

    return {"save": save, "read": read, "raw_save": raw_save, "raw_read": raw_read,
            "save8": save8, "read8": read8}


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


def big_file(options: dict, size: int, repeat: int) -> list[Row]:
    """Throughput (median of ``repeat``) is timed in this process, without the RSS sampler running;
    peak RSS growth is measured for each operation in a fresh process."""

    _warm(options)
    ops = _operations(options, size)
    order = ("save", "raw_save", "save8", "read", "raw_read", "read8")
    seconds = common.interleaved_medians({kind: ops[kind] for kind in order}, repeat)
    mb_s = {kind: common.throughput_mb_s(size, value) for kind, value in seconds.items()}
    rss = {kind: rss_in_fresh_process(kind, options, size) for kind in ops}

    storage = make_storage(options)
    blocks = f"{storage.part_size // MB} MB blocks, {storage.upload_max_conn} conn"
    mb = size // MB
    return [
        *common.peak_rss_rows(size, {"save": rss["save"], "read": rss["read"],
                                     "raw upload_blob": rss["raw_save"],
                                     "raw download_blob().readinto": rss["raw_read"]}),
        *common.throughput_vs_raw("save", mb_s["save"],
                                  {"upload_blob (4 MB blocks, 2 conn)": mb_s["raw_save"]}, blocks),
        *common.throughput_vs_raw("read", mb_s["read"],
                                  {"download_blob().readinto (32 MB, then 4 MB chunks)": mb_s["raw_read"]},
                                  f"{storage.part_size // MB} MB chunks"),
        ("with AZURE_BLOB_MAX_MEMORY_SIZE = 8 MB:", ""),
        (f"  peak RSS growth, save / read {mb} MB (MB)", f"{rss['save8']:.2f} / {rss['read8']:.2f}"),
        ("  save MB/s, ratio ours/raw", f"{mb_s['save8']:.2f}, {mb_s['save8'] / mb_s['raw_save']:.2f}"),
        ("  read MB/s, ratio ours/raw", f"{mb_s['read8']:.2f}, {mb_s['read8'] / mb_s['raw_read']:.2f}"),
    ]


def small_operations(options: dict, count: int) -> list[Row]:
    from azure.storage.blob import ContentSettings
    from django.core.files.base import ContentFile

    storage = make_storage(options, file_overwrite=True)
    container = raw_container(options)
    storage.save("warm.txt", ContentFile(b"w"))
    container.get_blob_client("warm.txt").get_blob_properties()
    settings = ContentSettings(content_type="text/plain")
    return common.small_ops_vs_raw(
        count, storage,
        raw_save=(lambda i, body: container.upload_blob(f"raw/{i}.txt", body, overwrite=True,
                                                        content_settings=settings), "upload_blob"),
        raw_exists=(lambda i: container.get_blob_client(f"raw/{i}.txt").get_blob_properties(),
                    "get_blob_properties"),
    )


def main() -> None:
    parser = common.bench_parser(__doc__, small=200, repeat=3,
                                 repeat_help="large-file timings: median of this many")
    parser.add_argument("--rss", help=argparse.SUPPRESS)  # child mode of rss_in_fresh_process
    args = parser.parse_args()
    common.setup_django()
    if args.rss:
        options = json.loads(os.environ["BENCH_AZURE_OPTIONS"])
        _warm(options)
        print(common.peak_rss_growth(_operations(options, args.size_mb * MB)[args.rss])[0])
        return
    with common.serve("azure") as described:
        options = described["options"]
        endpoint = described["endpoint"]
        with common.CountingProxy(described["host"], described["port"]) as proxy:
            common.print_rows("Azure: HTTP requests per operation",
                              requests_per_operation(options, proxy, endpoint))
        common.print_rows("Azure: small operations vs raw azure-storage-blob",
                          small_operations(options, args.small))
        common.print_rows("Azure: large file vs raw azure-storage-blob",
                          big_file(options, args.size_mb * MB, args.repeat))
    from emulators.azure import AzureEmulator

    common.print_rows("Azure: emulator", common.emulator_start_rows(AzureEmulator))


if __name__ == "__main__":
    main()
