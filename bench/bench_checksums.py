"""What checksums end to end cost: a large save and a whole read with the service's integrity
checks on (the default) and off (``storage.checksums = False``), per backend that has them.

Run: ``python bench/bench_checksums.py [--size-mb 64] [--repeat 5] [s3 gcs azure dropbox]``.
Each emulator runs in its own process (``python -m emulators up NAME``). The two storages
are timed in alternation, ``--repeat`` rounds, against the same emulator in the same run;
figures are medians and the ratio is on/off (1.05 = checksums cost 5% of the time).

On: S3 a CRC32 per request and a full-object CRC32 on multipart uploads (botocore's
``when_supported``), GCS a CRC32C, Azure a Content-MD5 per block and the blob's CRC32,
Dropbox a content hash per request; reads check the digest the service reports. Off: none
of that (for S3, botocore's ``request_checksum_calculation = "when_required"`` as well).

Where a ratio is above 1.05, what is left is the digest's own CPU, not our code around it.
For Azure and Dropbox the raw SDK is timed doing the same check in the same rounds: Azure's
``upload_blob(validate_content=True)`` (4 MiB blocks, as many connections as ours) and
``download_blob(validate_content=True)`` (an MD5 per range); Dropbox's upload session
sending each part's ``content_hash``, and a download hashed as it arrives. "ours on / raw
on" near 1.0 says the cost is the check's own; each algorithm's single-core rate on this
machine is printed first.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import MB, Row

BACKENDS = ("s3", "gcs", "azure", "dropbox")


def storage(described: dict, checksums: bool):
    module, _, name = described["backend"].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    made = cls(**{**described["options"], "file_overwrite": True})
    made.checksums = checksums  # before the first call: the S3 client is built with it
    return made


def cost(described: dict, size: int, repeat: int) -> list[Row]:
    on, off = storage(described, True), storage(described, False)
    save_on, read_on = common.big_save_and_read(on, size, "sum-on.bin")
    save_off, read_off = common.big_save_and_read(off, size, "sum-off.bin")
    save_on(), save_off()  # warm up: connections, the emulator's first object
    raw = RAW_WITH_CHECKS[described["name"]](on, size) if described["name"] in RAW_WITH_CHECKS else {}
    saves = common.interleaved_medians({"on": save_on, "off": save_off, **raw.get("save", {})}, repeat)
    reads = common.interleaved_medians({"on": read_on, "off": read_off, **raw.get("read", {})}, repeat)
    rows: list[Row] = []
    for op, medians in (("save", saves), ("read", reads)):
        rows += [(f"{op} MB/s: checksums on", common.throughput_mb_s(size, medians["on"])),
                 (f"{op} MB/s: checksums off", common.throughput_mb_s(size, medians["off"])),
                 (f"{op} time ratio on/off", medians["on"] / medians["off"])]
        if "raw on" in medians:
            rows += [(f"{op} MB/s: raw SDK, same check", common.throughput_mb_s(size, medians["raw on"])),
                     (f"{op} MB/s: raw SDK, no check", common.throughput_mb_s(size, medians["raw off"])),
                     (f"{op} time ratio raw on/off", medians["raw on"] / medians["raw off"]),
                     (f"{op} time ratio ours on / raw on", medians["on"] / medians["raw on"])]
    return rows


def azure_raw(storage, size: int) -> dict:
    """Azure by the SDK alone, with and without its Content-MD5 per block or range."""
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(storage.connection_string, max_block_size=4 * MB,
                                                       max_single_put_size=4 * MB)
    blob = service.get_blob_client(storage.azure_container, "sum-raw.bin")

    def save(check: bool):
        return lambda: blob.upload_blob(common.GeneratedStream(size), length=size, overwrite=True,
                                        max_concurrency=storage.upload_max_conn, validate_content=check)

    def read(check: bool):  # the SDK's own check: an MD5 of each ranged GET of 4 MiB
        return lambda: blob.download_blob(max_concurrency=1, validate_content=check).readinto(common.Sink())

    blob.upload_blob(common.GeneratedStream(size), length=size, overwrite=True)  # what the reads fetch
    return {"save": {"raw on": save(True), "raw off": save(False)},
            "read": {"raw on": read(True), "raw off": read(False)}}


def dropbox_raw(storage, size: int) -> dict:
    """Dropbox by the SDK alone: upload sessions with and without each part's content hash,
    downloads with and without hashing the bytes as they arrive."""
    from dropbox.files import CommitInfo, UploadSessionCursor, WriteMode

    from storages.core.checksums import DropboxContentHash

    client, part = storage.client, 4 * MB
    path = f"{storage.root_path.rstrip('/')}/sum-raw.bin"

    def content_hash(data: bytes, check: bool):
        if not check:
            return None
        hashed = DropboxContentHash()
        hashed.update(data)
        return hashed.hexdigest()

    def save(check: bool):
        def run() -> None:
            source = common.GeneratedStream(size)
            data = source.read(part)
            started = client.files_upload_session_start(data, content_hash=content_hash(data, check))
            cursor = UploadSessionCursor(started.session_id, len(data))
            while cursor.offset + part < size:
                data = source.read(part)
                client.files_upload_session_append_v2(data, cursor, content_hash=content_hash(data, check))
                cursor.offset += len(data)
            data = source.read(part)
            client.files_upload_session_finish(data, cursor, CommitInfo(path, mode=WriteMode.overwrite),
                                               content_hash=content_hash(data, check))
        return run

    def read(check: bool):
        def run() -> None:
            metadata, response = client.files_download(path)
            hashed = DropboxContentHash() if check else None
            with response:
                for chunk in response.iter_content(MB):
                    if hashed is not None:
                        hashed.update(chunk)
            assert hashed is None or hashed.hexdigest() == metadata.content_hash
        return run

    save(False)()  # the object the reads fetch
    return {"save": {"raw on": save(True), "raw off": save(False)},
            "read": {"raw on": read(True), "raw off": read(False)}}


RAW_WITH_CHECKS = {"azure": azure_raw, "dropbox": dropbox_raw}


def digest_rates(size: int = 64 * MB) -> list[Row]:
    """Each algorithm's rate on one core of this machine, over ``size`` bytes in memory."""
    from storages.core.checksums import DropboxContentHash

    data = os.urandom(size)
    rows: list[Row] = []
    for label, run in (("crc32 (zlib)", lambda: zlib.crc32(data)),
                       ("md5", lambda: hashlib.md5(data).digest()),
                       ("sha256", lambda: hashlib.sha256(data).digest()),
                       ("dropbox content hash", lambda: DropboxContentHash().update(data))):
        rows.append((f"{label} MB/s", common.throughput_mb_s(size, common.median_seconds(run, 3))))
    return rows


def main() -> None:
    parser = common.bench_parser(__doc__, repeat=5)
    parser.set_defaults(size_mb=64)
    parser.add_argument("backends", nargs="*", metavar="BACKEND", help=f"default: {' '.join(BACKENDS)}")
    args = parser.parse_args()
    if set(args.backends) - set(BACKENDS):
        parser.error(f"unknown backend(s) {sorted(set(args.backends) - set(BACKENDS))}; valid: {BACKENDS}")
    common.setup_django()
    common.print_rows("digests on one core of this machine, 64 MB in memory, median of 3", digest_rates())
    for name in args.backends or BACKENDS:
        with common.serve(name) as described:
            common.print_rows(f"{name}: checksums on vs off, {args.size_mb} MB, median of {args.repeat}",
                              cost(described, args.size_mb * MB, args.repeat))


if __name__ == "__main__":
    main()
