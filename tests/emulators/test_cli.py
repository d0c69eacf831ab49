"""``python -m emulators up``: settings printed, round trip made, processes stopped."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "emulators", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_up_prints_settings_and_round_trips():
    result = run("up", "s3", "--once")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "STORAGES = {" in out and "'storages.backends.s3.S3Storage'" in out
    assert "export AWS_ENDPOINT_URL_S3=http://127.0.0.1:" in out
    assert "round trip OK" in out
    assert out.rstrip().endswith("READY")


def test_up_json_describes_each_emulator():
    result = run("up", "s3", "--once", "--json", "--no-smoke")
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout.splitlines()[0])
    assert described["backend"] == "storages.backends.s3.S3Storage"
    assert described["options"]["endpoint_url"].startswith("http://127.0.0.1:")


def test_unknown_emulator_is_a_usage_error():
    result = run("up", "nosuch")
    assert result.returncode == 2
    assert "unknown emulator(s): nosuch" in result.stderr and "s3" in result.stderr
