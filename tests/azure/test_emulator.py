"""The Azurite emulator: lifecycle, reset, what it needs, and what it says when that is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from emulators import azure as azure_module
from emulators.azure import AZURITE_VERSION, DEFAULT_CONTAINER, AzureEmulator, find_azurite
from emulators.base import EmulatorUnavailable

ROOT = Path(__file__).resolve().parents[2]


def test_package_json_pins_azurite_and_the_lock_matches():
    package = json.loads((ROOT / "package.json").read_text())
    assert package["dependencies"] == {"azurite": AZURITE_VERSION}
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/azurite"]["version"] == AZURITE_VERSION


def test_command_keeps_telemetry_off_and_binds_loopback(tmp_path):
    argv = AzureEmulator().command(12345, tmp_path)
    assert "--disableTelemetry" in argv and "--inMemoryPersistence" in argv
    assert argv[argv.index("--blobHost") + 1] == "127.0.0.1"
    assert argv[argv.index("--blobPort") + 1] == "12345"
    assert "--oauth" not in argv


def test_start_reset_stop_leave_nothing_behind():
    emulator = AzureEmulator()
    emulator.start()
    try:
        process = psutil.Process(emulator._process.pid)
        assert emulator.health() and emulator.api_version
        client = emulator.service_client()
        name = emulator.new_container()
        client.get_container_client(name).upload_blob("x", b"x")
        assert {c.name for c in client.list_containers()} == {DEFAULT_CONTAINER, name}
        emulator.reset()
        assert [c.name for c in client.list_containers()] == [DEFAULT_CONTAINER]
        assert list(client.get_container_client(DEFAULT_CONTAINER).list_blobs()) == []
        workdir = emulator._workdir
    finally:
        emulator.stop()
    emulator.stop()  # idempotent
    assert not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    assert not emulator.health()
    assert workdir is not None and not workdir.exists()


def test_azurite_exits_when_the_process_that_started_it_is_killed():
    code = ("from emulators.azure import AzureEmulator\n"
            "e = AzureEmulator(); e.start(); print(e._process.pid, flush=True)\n"
            "import time; time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        azurite = psutil.Process(int(parent.stdout.readline()))
    finally:
        parent.kill()
        parent.wait()
    try:
        azurite.wait(timeout=10)  # the watchdog notices within a second or two
    except psutil.TimeoutExpired:
        azurite.kill()
        pytest.fail("Azurite outlived the process that started it")


def test_missing_node_names_what_to_install(monkeypatch, tmp_path):
    monkeypatch.delenv("AZURITE_BLOB", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EmulatorUnavailable, match=r"Node.js is not installed.*then run `npm ci` in"):
        AzureEmulator().start()


def test_missing_azurite_says_npm_ci(monkeypatch, tmp_path):
    monkeypatch.delenv("AZURITE_BLOB", raising=False)
    monkeypatch.setattr(azure_module, "REPO_ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", os.path.dirname(azure_module._node()))  # node, but no azurite-blob
    if azure_module.shutil.which("azurite-blob"):
        pytest.skip("a global azurite-blob is on PATH next to node")
    message = rf"Azurite {AZURITE_VERSION} is not installed: run `npm ci` in"
    with pytest.raises(EmulatorUnavailable, match=message):
        find_azurite()


def test_suite_reports_why_it_cannot_run_without_node(tmp_path):
    """Without Node.js the Azure conformance tests are skipped, each saying why (never a silent pass);
    with --storage-strict they fail."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"AZURITE_BLOB", "PYTEST_ADDOPTS", "STORAGE_STRICT"}}  # CI runs strict
    env["PATH"] = str(tmp_path)
    argv = [sys.executable, "-m", "pytest", "tests/conformance/test_seed_storage.py",
            "--storage-backend=azure", "-q", "-rs", "-p", "no:randomly", "-p", "no:xdist"]
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "1 skipped" in result.stdout, result.stdout + result.stderr
    assert "Node.js is not installed" in result.stdout
    strict = subprocess.run(argv + ["--storage-strict"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert strict.returncode != 0 and "Node.js is not installed" in strict.stdout
