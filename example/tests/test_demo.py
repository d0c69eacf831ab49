"""``./dev demo``: what it prints is true, and Ctrl-C (or SIGTERM) leaves no process behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading

import psutil
import pytest
import requests

from example.backends import ALIASES, BACKENDS, canonical

from .sites import REPO

START_TIMEOUT = 180.0


def read_until(process: subprocess.Popen, pattern: str, lines: list[str], timeout: float) -> re.Match:
    """Read the process's output into ``lines`` until a line matches ``pattern``."""
    found: list[re.Match] = []
    done = threading.Event()

    def reader() -> None:
        for line in process.stdout:
            lines.append(line)
            match = re.search(pattern, line)
            if match:
                found.append(match)
                break
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    if not done.wait(timeout) or not found:
        process.kill()
        raise AssertionError(f"no line matching {pattern!r} in {timeout:.0f}s:\n{''.join(lines)}")
    return found[0]


def log_in(admin_url: str, username: str, password: str) -> requests.Response:
    session = requests.Session()
    session.get(admin_url + "login/", timeout=30).raise_for_status()
    return session.post(admin_url + "login/", timeout=30, data={
        "username": username, "password": password, "next": "/admin/",
        "csrfmiddlewaretoken": session.cookies["csrftoken"]}, headers={"Referer": admin_url + "login/"})


def test_dev_demo_prints_a_working_url_and_ctrl_c_stops_everything_it_started():
    """On GCS, whose emulator is a child program (fake-gcs-server). The browser tests' sites are
    stopped with SIGTERM, and their fixture checks the same (exit 0, no process left)."""
    process = subprocess.Popen(["./dev", "demo", "gcs", "--port", "0"], cwd=REPO,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               text=True, start_new_session=True)
    lines: list[str] = []
    try:
        site = read_until(process, r"site:\s+(http://127\.0\.0\.1:\d+/)", lines, START_TIMEOUT).group(1)
        admin = read_until(process, r"admin:\s+(\S+)\s+\(user (\S+), password (\S+)\)", lines, 10)
        read_until(process, r"Press Ctrl-C", lines, 10)
        # The emulator runs as a child program; it must go when the demo goes.
        children = psutil.Process(process.pid).children(recursive=True)
        assert any("fake-gcs-server" in " ".join(child.cmdline()) for child in children), children

        page = requests.get(site, timeout=30)
        assert page.status_code == 200
        assert "Uploads" in page.text and "storages.backends" in page.text
        logged_in = log_in(admin.group(1), admin.group(2), admin.group(3))
        assert logged_in.status_code == 200 and "Site administration" in logged_in.text

        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: SIGINT to the terminal's foreground group
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    output = "".join(lines) + process.stdout.read()
    assert "stopped: the site and the emulator are down" in output, output
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == [], f"left running after the demo stopped: {alive}"
    with pytest.raises(requests.ConnectionError):
        requests.get(site, timeout=5)


def test_a_backend_whose_urls_a_browser_cannot_load_is_refused_with_its_reason():
    result = subprocess.run([sys.executable, "-m", "example", "libcloud-local", "--json", "--port", "0"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    error = json.loads(result.stdout.splitlines()[-1])
    assert error["kind"] == "not_servable"
    assert "libcloud's local driver gives a filesystem path as the URL" in error["error"]
    assert "error: libcloud-local cannot back a web page" in result.stderr


def test_backend_names():
    assert canonical("libcloud") == "libcloud-s3"
    assert all(canonical(name) == name for name in BACKENDS)
    with pytest.raises(ValueError, match="unknown backend 'nope'; valid: s3, gcs, azure, dropbox"):
        canonical("nope")
    assert set(ALIASES.values()) <= set(BACKENDS)


def test_an_unknown_backend_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "example", "nope"], cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "unknown backend 'nope'; valid: s3, gcs" in result.stderr


def test_the_site_refuses_to_start_without_the_launcher():
    env = {k: v for k, v in os.environ.items() if k != "EXAMPLE_SITE"}
    result = subprocess.run([sys.executable, "-c", "import example.settings"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "EXAMPLE_SITE is not set: start the example site with `./dev demo [backend]`" in result.stderr
