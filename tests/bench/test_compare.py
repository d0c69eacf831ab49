"""bench/compare.py: a smoke run on one backend writes valid JSON; its table and ratios.

Benchmarks print figures, they do not pass or fail on speed: these tests check only that
the script runs and reports what it measured in the documented shape.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys

import pytest

from bench.compare import Row, table
from bench.progress import Progress

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def quick_run(tmp_path, backend: str, *options: str, timeout: float = 180) -> tuple[list[dict], str, str]:
    """``compare.py --quick --no-upstream`` on one backend: its JSON rows, stdout and stderr."""
    out = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, os.path.join(ROOT, "bench", "compare.py"), "--backends", backend, "--quick",
         *options, "--no-upstream", "--json", str(out)],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(out.read_text())["rows"], done.stdout, done.stderr


def test_quick_run_on_ftp_writes_the_rows_as_json(tmp_path):
    pytest.importorskip("pyftpdlib")
    rows, stdout, stderr = quick_run(tmp_path, "ftp", "--operations", "exists,missing,listdir", timeout=120)
    # FTP tells a file from a folder in one request: no row of the raw SDK's folder check
    assert [r["operation"] for r in rows] == ["10 exists()", "10 exists() of a missing name",
                                               "listdir of 50 objects"]
    for row in rows:
        assert set(row) >= {"backend", "operation", "unit", "ours", "upstream", "raw"}
        assert row["backend"] == "ftp"
        assert row["ours"] > 0 and row["raw"] > 0  # both sides measured
        assert row["upstream"] is None and "--no-upstream" in row["notes"]["upstream"]
    assert "ours/raw" in stdout and "listdir of 50 objects" in stdout
    assert "\r" not in stderr  # no progress bar when stderr is not a terminal


def test_a_backend_that_checks_digests_is_also_timed_without_and_against_the_sdk_checking(tmp_path):
    """Where ours checks digests, the same rounds time ours with checksums off and the raw SDK
    doing ours' check (Dropbox's SDK hashes uploads by itself: that cell says so instead)."""
    rows = {r["operation"]: r for r in quick_run(tmp_path, "dropbox", "--size-mb", "4",
                                                  "--operations", "save_big,read_big")[0]}
    for direction in ("save 4 MiB from disk", "read 4 MiB (1 MiB reads)"):
        plain, unchecked = rows[direction], rows[f"{direction}: ours with checksums off"]
        assert unchecked["ours"] > 0 and unchecked["ours"] != plain["ours"]  # a run of its own
        assert unchecked["raw"] == plain["raw"]  # against the same raw runs
    checked = rows["read 4 MiB (1 MiB reads): raw SDK doing ours' check"]
    assert checked["raw"] > 0 and checked["raw"] != rows["read 4 MiB (1 MiB reads)"]["raw"]
    assert checked["ours"] == rows["read 4 MiB (1 MiB reads)"]["ours"]
    not_run = rows["save 4 MiB from disk: raw SDK doing ours' check"]
    assert not_run["raw"] is None and "auto_content_hash" in not_run["notes"]["raw"]


def test_a_service_without_folders_times_the_raw_sdk_making_ours_folder_check_too(tmp_path):
    """On S3, ours' exists() of a missing name also lists ``name/``: the same rounds time the
    raw SDK making both requests, against the same runs of ours."""
    plain, folders = quick_run(tmp_path, "s3", "--operations", "missing")[0]
    assert plain["operation"] == "10 exists() of a missing name"
    assert folders["operation"] == "10 exists() of a missing name: raw SDK with ours' folder check"
    assert folders["ours"] == plain["ours"]  # the same runs of ours
    assert folders["raw"] > 0 and folders["raw"] != plain["raw"]  # a raw run of its own


def test_a_backend_variant_of_ours_runs_in_the_same_rounds(tmp_path):
    """SFTP's variant (a 1 MiB write window) is timed in the save's rounds, with its emulator
    CPU, against the same raw runs; the read has none."""
    rows = {r["operation"]: r for r in quick_run(tmp_path, "sftp", "--size-mb", "2",
                                                  "--operations", "save_big,read_big")[0]}
    plain = rows["save 2 MiB from disk"]
    variant = rows["save 2 MiB from disk: ours with a 1 MiB write window"]
    assert variant["ours"] > 0 and variant["ours"] != plain["ours"] and variant["raw"] == plain["raw"]
    cpu = rows["save 2 MiB from disk: ours with a 1 MiB write window: emulator CPU"]
    assert cpu["raw"] == rows["save 2 MiB from disk: emulator CPU"]["raw"]
    assert not any("write window" in op for op in rows if op.startswith("read"))


def test_ratios_say_how_ours_compares_higher_is_better():
    faster = Row("s3", "save", "MB/s", {"ours": 150.0, "upstream": 100.0, "raw": 200.0})
    assert faster.ratio("upstream") == 1.5 and faster.ratio("raw") == 0.75
    quicker = Row("s3", "exists", "ms/op", {"ours": 2.0, "upstream": 3.0, "raw": 1.0})
    assert quicker.ratio("upstream") == 1.5 and quicker.ratio("raw") == 0.5
    missing = Row("sftp", "save", "ms/op", {"ours": 2.0, "upstream": None, "raw": 1.0})
    assert missing.ratio("upstream") is None


def test_noise_is_the_widest_round_to_round_spread_of_the_sides():
    from bench.compare import BackendRun

    run = BackendRun.__new__(BackendRun)  # add() needs only the backend's name and the rows
    run.name, run.rows = "s3", []
    results = {"ours": [{"seconds": s} for s in (1.0, 1.1, 0.9)],  # ±10%
               "raw": [{"seconds": s} for s in (2.0, 2.0, 2.1)],  # ±2.5%
               "upstream": [{"seconds": 3.0}]}  # one round: no spread
    run.add("x", "s", results, lambda rs: statistics.median(r["seconds"] for r in rs), cpu=False)
    row = run.rows[0]
    assert row.values == {"ours": 1.0, "raw": 2.0, "upstream": 3.0}
    assert row.spread == pytest.approx({"ours": 0.1, "raw": 0.025})
    assert row.noise == pytest.approx(0.1) and "±10%" in table([row])
    assert row.as_json()["spread"] == row.spread


def test_table_shows_figures_ratios_and_why_a_cell_is_missing():
    rows = [Row("s3", "100 exists()", "ms/op", {"ours": 2.0, "upstream": 3.0, "raw": 1.9}),
            Row("sftp", "200 saves", "ms/op", {"ours": 2.0, "upstream": None, "raw": 1.0},
                {"upstream": "no overwrite setting"})]
    text = table(rows)
    assert "1.50x" in text and "0.95x" in text
    assert "sftp upstream (every operation): no overwrite setting" in text
    assert Row("s3", "x", "MB/s", {"ours": 1.0}).as_json() == {
        "backend": "s3", "operation": "x", "unit": "MB/s", "ours": 1.0, "upstream": None, "raw": None}


def test_progress_bar_draws_only_on_a_terminal():
    quiet = io.StringIO()
    progress = Progress(3, stream=quiet)  # a StringIO is not a TTY
    progress.step("one")
    progress.close()
    assert quiet.getvalue() == ""
    shown = io.StringIO()
    progress = Progress(2, stream=shown, enabled=True)
    progress.step("first")
    progress.step("second")
    progress.close()
    assert "1/2" in shown.getvalue() and "second" in shown.getvalue()
    assert shown.getvalue().endswith("\r\033[K")  # the line is cleared at the end
