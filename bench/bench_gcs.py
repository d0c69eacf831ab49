"""GCS backend on fake-gcs-server: requests per operation, memory, throughput, small-op cost.

Run: ``python bench/bench_gcs.py [--size-mb 500] [--small 200] [--repeat 2]``. The emulator runs in
its own process (``python -m emulators up gcs``), so its memory is not counted.
Figures are medians; ratios compare our backend with the raw google-cloud-storage
client on the same emulator in the same run.

fake-gcs-server keeps objects in memory and re-hashes the whole object on every
resumable chunk, so large uploads are slow on it for both sides alike.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import MB, Row

PART = 8 * MB  # the backend's default part and the raw client's chunk size


def make_storage(options: dict, endpoint: str, **extra):
    from storages.backends.gcloud import GoogleCloudStorage

    return GoogleCloudStorage(**{**options, "emulator_host": endpoint, **extra})


def raw_bucket(options: dict, endpoint: str):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    client = storage.Client(project=options["project_id"], credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": endpoint})
    return client.bucket(options["bucket_name"])


def requests_per_operation(options: dict, proxy: common.CountingProxy) -> list[Row]:
    from django.core.files.base import File

    on, off, unsigned = common.warmed_storages(lambda **kw: make_storage(options, proxy.endpoint, **kw),
                                               {"querystring_auth": False})
    count = common.RequestCounter(proxy)
    common.count_small_saves(count, on, off)
    count("save 20 MB (resumable, 8 MB parts)",
          lambda: on.save("twenty.bin", File(common.GeneratedStream(20 * MB), name="twenty.bin")))
    count("save 20 MB, overwrite off, name free",
          lambda: off.save("twenty-off.bin", File(common.GeneratedStream(20 * MB), name="x.bin")))
    common.count_metadata(count, on)
    count("url, signed V4", lambda: on.url("small.txt"))
    count("url, no querystring auth", lambda: unsigned.url("small.txt"))

    def open_seek_read():
        with on.open("twenty.bin") as f:
            f.read(10)
            f.seek(15 * MB)
            f.read(10)

    count("open + read", lambda: common.read_whole(on, "small.txt"))
    count("open + read + seek + read", open_seek_read)
    count("delete", lambda: on.delete("small.txt"))

    bucket = raw_bucket(options, options["emulator_host"])
    common.fill(lambda i: bucket.blob(f"list/k{i:05d}").upload_from_string(b""), 2500)
    count("listdir of 2,500 keys", lambda: on.listdir("list"))
    return count.rows


def measure(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) for one call."""
    cpu = time.process_time()
    seconds, _ = common.timed(fn)
    return seconds, time.process_time() - cpu


def big_file(options: dict, size: int, repeat: int) -> list[Row]:
    """Saves and reads alternate between ours and raw (the order flips every round, since
    the emulator's speed drifts); the best wall time of each side is kept, and the
    median client CPU time. Peak RSS growth is measured in separate passes, without
    the sampler's cost landing in the timings."""
    storage = make_storage(options, options["emulator_host"])
    bucket = raw_bucket(options, options["emulator_host"])
    bucket.blob("warm").upload_from_string(b"w")
    storage.exists("warm")
    save, read = common.big_save_and_read(storage, size)

    def raw_save():
        blob = bucket.blob("raw.bin", chunk_size=PART)
        blob.upload_from_file(common.GeneratedStream(size), size=size,
                              content_type="application/octet-stream")

    def raw_download():
        bucket.blob("raw.bin").download_to_file(common.Sink(), raw_download=True)

    def raw_stream():
        with bucket.blob("raw.bin").open("rb", chunk_size=PART, raw_download=True) as f:
            assert common.drain(f, MB) == size

    # Not common.interleaved_medians: the best wall time of each side is kept, the save order
    # flips every round, and client CPU time is measured too.
    runs: dict[str, list[tuple[float, float]]] = {}
    for round_ in range(repeat):
        saves = [("save", save), ("raw save", raw_save)]
        for label, fn in saves if round_ % 2 else saves[::-1]:
            runs.setdefault(label, []).append(measure(fn))
        for label, fn in [("read", read), ("raw download", raw_download), ("raw stream", raw_stream)]:
            runs.setdefault(label, []).append(measure(fn))
    best = {label: common.throughput_mb_s(size, min(s for s, _ in values)) for label, values in runs.items()}
    cpu = {label: statistics.median(c for _, c in values) * 100 * MB / size for label, values in runs.items()}
    rss = {"save": common.peak_rss_growth(save)[0], "read": common.peak_rss_growth(read)[0],
           "raw upload_from_file": common.peak_rss_growth(raw_save)[0],
           "raw blob.open('rb')": common.peak_rss_growth(raw_stream)[0]}
    return [
        *common.peak_rss_rows(size, rss),
        *common.throughput_vs_raw("save", best["save"], {"upload_from_file, 8 MB chunks": best["raw save"]},
                                  f"best of {repeat}"),
        ("save client CPU s per 100 MB: ours", cpu["save"]),
        ("save client CPU s per 100 MB: raw", cpu["raw save"]),
        *common.throughput_vs_raw("read", best["read"], {"download_to_file": best["raw download"],
                                                         "blob.open('rb')": best["raw stream"]},
                                  f"best of {repeat}"),
        ("read client CPU s per 100 MB: ours", cpu["read"]),
        ("read client CPU s per 100 MB: raw download_to_file", cpu["raw download"]),
    ]


def small_operations(options: dict, count: int) -> list[Row]:
    from django.core.files.base import ContentFile

    storage = make_storage(options, options["emulator_host"], file_overwrite=True)
    bucket = raw_bucket(options, options["emulator_host"])
    storage.save("warm.txt", ContentFile(b"w"))
    bucket.get_blob("warm.txt")
    return common.small_ops_vs_raw(
        count, storage,
        raw_save=(lambda i, body: bucket.blob(f"raw/{i}.txt").upload_from_string(
            body, content_type="text/plain"), "upload_from_string"),
        raw_exists=(lambda i: bucket.get_blob(f"raw/{i}.txt"), "get_blob"),
    )


def emulator_start() -> list[Row]:
    from emulators.gcs import GCSEmulator

    programs: list[str] = []  # which program the emulator found and ran
    seconds = common.emulator_start_seconds(GCSEmulator, each=lambda e: programs.append(e.program))
    return [(f"emulator ({programs[-1] or ''}) start, median of 3 (s)", seconds)]


def main() -> None:
    parser = common.bench_parser(__doc__, small=200, repeat=2, repeat_help="rounds of the big-file save/read")
    args = parser.parse_args()
    common.setup_django()
    with common.serve("gcs") as described:
        options = described["options"]
        with common.CountingProxy(described["host"], described["port"]) as proxy:
            common.print_rows("GCS: requests per operation", requests_per_operation(options, proxy))
        common.print_rows("GCS: small operations", small_operations(options, args.small))
        common.print_rows(f"GCS: {args.size_mb} MB file", big_file(options, args.size_mb * MB, args.repeat))
    common.print_rows("GCS: emulator", emulator_start())


if __name__ == "__main__":
    main()
