"""The sample downstream project (tests/sample_project) tested the two ways a project runs its tests:
`manage.py test --parallel 2` (the mixin, the decorator, the runner) and pytest (the marker, the
fixtures, the same TestCase classes under pytest-django, the contract on its own subclass)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import defaultdict
from pathlib import Path

import psutil
import pytest

from tests.toolkit.test_docs import documented_command

PROJECT = Path(__file__).resolve().parents[1] / "sample_project"
BACKENDS = ["s3", "gcs", "azure", "ftp", "sftp"]


def run(args: list[str], tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    """Run ``args`` in the sample project, strict (an emulator that cannot start is an error);
    return the process and what its tests recorded (gallery/samples.py:record)."""
    records = tmp_path / "records"
    records.mkdir()
    run_id = uuid.uuid4().hex
    env = {**os.environ, "STORAGE_STRICT": "1", "SAMPLE_RECORD_DIR": str(records), "SAMPLE_RUN_ID": run_id}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, *args], cwd=PROJECT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert leftovers(run_id) == [], "the run left processes behind"
    entries = [json.loads(line) for path in records.iterdir() for line in path.read_text().splitlines()]
    return result, entries


def leftovers(run_id: str) -> list[str]:
    """Processes still running that the run started (they inherited its SAMPLE_RUN_ID)."""
    found = []
    for process in psutil.process_iter(["pid", "name"]):
        try:
            if process.environ().get("SAMPLE_RUN_ID") == run_id:
                found.append(f"{process.pid} {process.info['name']}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def endpoints_by_backend(entries: list[dict]) -> dict[str, set[str]]:
    seen: dict[str, set[str]] = defaultdict(set)
    for entry in entries:
        seen[entry["backend"]].add(entry["endpoint"])
    return dict(seen)


def test_manage_py_test_parallel_shares_one_emulator_per_backend(tmp_path):
    result, entries = run(["manage.py", "test", "--parallel", "2", "-v", "2"], tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Ran 17 tests" in output and "OK" in output and "skipped" not in output, output
    # Every backend's TestCase ran, each backend on one emulator for the whole run ...
    assert {name: len(found) for name, found in endpoints_by_backend(entries).items()} == dict.fromkeys(
        BACKENDS, 1)
    # ... in two worker processes, served by the main process, which started them before forking.
    assert len({entry["pid"] for entry in entries}) == 2
    assert all(entry["parent_serves"] for entry in entries), entries


def test_pytest_runs_the_marker_fixtures_and_testcases(tmp_path):
    result, entries = run(["-m", "pytest", "-v", f"--storage-backend={','.join(BACKENDS)}"], tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "26 passed" in output, output
    for name in BACKENDS:  # the marker's ids name the backend
        assert f"pytest_uploads.py::test_upload_view[{name}] PASSED" in output
    assert "tests.py::SFTPUploadTests::test_view_reads_a_seeded_file PASSED" in output
    # The marker's tests and the TestCase classes share the plugin's emulators: one per backend.
    assert {name: len(found) for name, found in endpoints_by_backend(entries).items()} == dict.fromkeys(
        BACKENDS, 1)


@pytest.mark.parametrize("backend", ["s3"])
def test_conformance_suite_runs_on_a_projects_own_subclass(tmp_path, backend):
    """The contract for custom storages, run as the docs say, on a subclass that changes
    ``location`` and ``get_object_parameters`` (gallery/storage.py)."""
    command = documented_command("contract")  # docs/testing.md's command, as a user types it
    assert f"--storage-backend={backend}" in command
    result, _ = run(["-m", *command, "gallery/contract_probe.py", "-rs"], tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Every contract test ran or was skipped for a capability S3 declares it lacks; the probe proves
    # the storages were the subclass, writing under its location with its object parameters.
    assert "42 passed, 2 skipped" in output, output
    assert output.count("s3 cannot do") == 2, output
