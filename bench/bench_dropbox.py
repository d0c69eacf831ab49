"""Dropbox backend on our Dropbox API fake: requests per operation, memory, throughput, small-op cost.

Run: ``python bench/bench_dropbox.py [--size-mb 500] [--small 200]``. The fake runs
in its own process (``python -m emulators up dropbox``), so its memory is not
counted. Requests are counted by a proxy in front of the fake's plain-HTTP
port. Figures are medians; ratios compare our backend with the raw ``dropbox``
SDK on the same fake in the same run.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import MB, Row

PART = 4 * MB  # the backend's part size, used for the raw SDK upload loop too


def make_storage(options: dict, endpoint: str | None = None, **extra):
    from storages.backends.dropbox import DropboxStorage

    return DropboxStorage(**{**options, "api_endpoint": endpoint or options["api_endpoint"], **extra})


def raw_client(options: dict):
    import dropbox

    from storages.backends.dropbox import endpoint_session

    return dropbox.Dropbox(options["oauth2_access_token"], session=endpoint_session(options["api_endpoint"]))


def requests_per_operation(options: dict, proxy: common.CountingProxy) -> list[Row]:
    from django.core.files.base import ContentFile

    on, off = common.warmed_storages(
        lambda **kw: make_storage(options, proxy.endpoint, root_path="/bench-requests", **kw))
    count = common.RequestCounter(proxy)

    def seek_read():
        with on.open("multi.bin") as f:
            f.seek(5 * MB)
            f.read(100)

    common.count_small_saves(count, on, off)
    count("save 10 MB (4 MiB parts)", lambda: on.save("multi.bin", ContentFile(b"m" * 10 * MB)))
    common.count_metadata(count, on)
    count("url (temporary link)", lambda: on.url("small.txt"))
    count("open + read", lambda: common.read_whole(on, "small.txt"))
    count("open + seek + read", seek_read)
    count("delete", lambda: on.delete("small.txt"))

    client = raw_client(options)
    common.fill(lambda i: client.files_upload(b"", f"/bench-requests/list/k{i:05d}"), 1000, threads=8)
    count("listdir of 1,000 files (fake pages by 100)", lambda: on.listdir("list"))
    return count.rows


def _raw_upload(client, size: int, path: str) -> None:
    """The raw SDK's own way to stream a big file: an upload session in 4 MiB parts."""
    from dropbox.files import CommitInfo, UploadSessionCursor, WriteMode

    source = common.GeneratedStream(size)
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


def big_file(options: dict, size: int) -> list[Row]:
    """Throughput: medians of 3 interleaved runs, timed without this process's RSS sampler
    (it costs CPU); RSS in separate passes."""
    import psutil

    storage = make_storage(options, root_path="/bench-big", file_overwrite=True)
    client = raw_client(options)
    client.files_upload(b"w", "/bench-big/warm")
    storage.exists("warm")
    save, read = common.big_save_and_read(storage, size)

    def raw_save():
        _raw_upload(client, size, "/bench-big/raw.bin")

    def raw_read():
        _raw_download(client, "/bench-big/raw.bin")

    # The fake is our child (started by serve); its RSS is sampled over every transfer below.
    with common.PeakRSS(psutil.Process().children(recursive=True), interval=0.02) as fake:
        seconds = common.interleaved_medians({"ours up": save, "ours down": read, "raw up": raw_save,
                                              "raw down": raw_read}, 3)
        rss = {"save": common.peak_rss_growth(save)[0], "read": common.peak_rss_growth(read)[0],
               "raw SDK session upload": common.peak_rss_growth(raw_save)[0],
               "raw SDK streamed download": common.peak_rss_growth(raw_read)[0]}
    mb_s = {label: common.throughput_mb_s(size, value) for label, value in seconds.items()}
    return [
        *common.peak_rss_rows(size, rss),
        (f"the fake's own peak RSS growth over 8 saves + 8 reads of {size // MB} MB (MB)", fake.growth),
        *common.throughput_vs_raw("save", mb_s["ours up"], {"SDK upload session": mb_s["raw up"]}),
        *common.throughput_vs_raw("read", mb_s["ours down"],
                                  {"SDK files_download streamed": mb_s["raw down"]}),
    ]


def small_operations(options: dict, count: int) -> list[Row]:
    from django.core.files.base import ContentFile
    from dropbox.files import WriteMode

    storage = make_storage(options, root_path="/bench-small", file_overwrite=True)
    client = raw_client(options)
    storage.save("warm.txt", ContentFile(b"w"))
    client.files_get_metadata("/bench-small/warm.txt")
    return common.small_ops_vs_raw(
        count, storage,
        raw_save=(lambda i, body: client.files_upload(body, f"/bench-small/raw/{i}.txt",
                                                      mode=WriteMode.overwrite), "files_upload"),
        raw_exists=(lambda i: client.files_get_metadata(f"/bench-small/raw/{i}.txt"), "files_get_metadata"),
        prefix="ours/",
    )


def main() -> None:
    args = common.bench_parser(__doc__, small=200).parse_args()
    common.setup_django()
    with common.serve("dropbox") as described:
        options = described["options"]
        # The large file first: memory freed by earlier steps would hide RSS growth.
        common.print_rows("Dropbox: large file vs raw SDK", big_file(options, args.size_mb * MB))
        with common.CountingProxy(described["host"], described["port"]) as proxy:
            common.print_rows("Dropbox: HTTP requests per operation", requests_per_operation(options, proxy))
        common.print_rows("Dropbox: small operations vs raw SDK", small_operations(options, args.small))
    from emulators.dropbox import DropboxEmulator

    # Starting includes generating the TLS certificates.
    common.print_rows("Dropbox: emulator", common.emulator_start_rows(
        DropboxEmulator, label="emulator start incl. TLS certificates", unit="ms"))


if __name__ == "__main__":
    main()
