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
"""

from __future__ import annotations

import importlib
import os
import sys

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
    saves = common.interleaved_medians({"on": save_on, "off": save_off}, repeat)
    reads = common.interleaved_medians({"on": read_on, "off": read_off}, repeat)
    rows: list[Row] = []
    for op, medians in (("save", saves), ("read", reads)):
        rows += [(f"{op} MB/s: checksums on", common.throughput_mb_s(size, medians["on"])),
                 (f"{op} MB/s: checksums off", common.throughput_mb_s(size, medians["off"])),
                 (f"{op} time ratio on/off", medians["on"] / medians["off"])]
    return rows


def main() -> None:
    parser = common.bench_parser(__doc__, repeat=5)
    parser.set_defaults(size_mb=64)
    parser.add_argument("backends", nargs="*", metavar="BACKEND", help=f"default: {' '.join(BACKENDS)}")
    args = parser.parse_args()
    if set(args.backends) - set(BACKENDS):
        parser.error(f"unknown backend(s) {sorted(set(args.backends) - set(BACKENDS))}; valid: {BACKENDS}")
    common.setup_django()
    for name in args.backends or BACKENDS:
        with common.serve(name) as described:
            common.print_rows(f"{name}: checksums on vs off, {args.size_mb} MB, median of {args.repeat}",
                              cost(described, args.size_mb * MB, args.repeat))


if __name__ == "__main__":
    main()
