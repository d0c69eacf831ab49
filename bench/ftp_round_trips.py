"""What each FTP command costs on the emulator, in one run: the figures behind the FTP rows of
bench/compare.py that sit below the raw SDK by design (a save makes STOR to a temporary name and
RNFR/RNTO, and a create-only save an MLST check first; an open asks MLST for the size where raw
ftplib sends TYPE I). Medians of ``--rounds`` rounds of ``--count`` commands, interleaved.

Run: ``python bench/ftp_round_trips.py``.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from typing import Callable

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.bench_ftp import raw_client  # noqa: E402
from bench.common import serve  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with serve("ftp") as spec:
        ftp = raw_client(spec["options"]["location"])
        ftp.storbinary("STOR rt-file", io.BytesIO(b"x" * 1024))
        counter = [0]

        def rename() -> None:
            counter[0] += 1
            ftp.rename("rt-file", "rt-moved") if counter[0] % 2 else ftp.rename("rt-moved", "rt-file")

        def stor() -> None:
            ftp.storbinary("STOR rt-new", io.BytesIO(b"x" * 1024))

        commands: dict[str, Callable[[], object]] = {
            "TYPE I (raw ftplib's first command)": lambda: ftp.voidcmd("TYPE I"),
            "NOOP (a bare round trip)": lambda: ftp.voidcmd("NOOP"),
            "SIZE": lambda: ftp.size("rt-file"),
            "MLST (our stat: size and time)": lambda: ftp.sendcmd("MLST rt-file"),
            "RNFR+RNTO (our rename into place)": rename,
            "PASV+STOR 1 KiB (raw's save, minus TYPE I)": stor,
        }
        times: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.rounds):
            for label, command in commands.items():
                start = time.perf_counter()
                for _ in range(args.count):
                    command()
                times[label].append((time.perf_counter() - start) / args.count * 1000)
        ftp.quit()
    print(f"FTP emulator, one connection, medians of {args.rounds} x {args.count} commands (ms per command)")
    for label, values in times.items():
        print(f"  {label:45s} {statistics.median(values):7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
