"""The external route: the conformance suite against emulators another process started,
live services refused without --storage-live, namespaces deleted even when tests fail."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid

import pytest

from emulators.base import EmulatorUnavailable
from emulators.external import VARIABLES, is_local
from emulators.external_services import ExternalS3
from emulators.ftp import FTPEmulator
from emulators.s3 import S3Emulator
from tests.support import started

pytest_plugins = ["pytester"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SELECTION = ["s3", "ftp", "sftp", "dropbox"]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any external-route variable, plus ``extra``."""
    names = {name for group in VARIABLES.values() for name in group}
    env = {k: v for k, v in os.environ.items() if k not in names and not k.startswith("STORAGE_")}
    return {**env, **extra}


def test_conformance_suite_passes_against_emulators_of_another_process():
    up = subprocess.Popen([sys.executable, "-m", "emulators", "up", "--json", "--no-smoke", *SELECTION],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=clean_env())
    try:
        described = []
        for line in up.stdout:
            if line.startswith("READY"):
                break
            described.append(json.loads(line))
        assert line.strip() == "READY", up.stderr.read() if up.poll() is not None else line
        env = {k: v for item in described for k, v in item["external_env"].items()}
        run_id = f"storages-test-{uuid.uuid4().hex[:8]}"
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/conformance", "--storage-emulators=external",
             f"--storage-backend={','.join(SELECTION)}", "--storage-strict", "-q", "-rs", "-n", "2",
             "-p", "no:randomly"],
            cwd=ROOT, capture_output=True, text=True, env=clean_env(**env, STORAGE_RUN_ID=run_id),
            timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        passed = int(re.search(r"(\d+) passed", result.stdout).group(1))
        assert passed > 100 and " failed" not in result.stdout.splitlines()[-1]
        # Every namespace the run made is gone again.
        s3 = next(item for item in described if item["name"] == "s3")
        import boto3

        client = boto3.client("s3", endpoint_url=s3["endpoint"], aws_access_key_id="testing",
                              aws_secret_access_key="testing", region_name="us-east-1")
        assert [b["Name"] for b in client.list_buckets()["Buckets"] if b["Name"].startswith(run_id)] == []
        sftp = next(item for item in described if item["name"] == "sftp")
        jail = os.path.join(os.path.dirname(sftp["env"]["SFTP_KNOWN_HOSTS"]), "root")
        assert not [name for name in os.listdir(jail) if name.startswith(run_id)]
        # `up --emulators=external` round-trips through the same services, in a namespace of its own.
        again = subprocess.run([sys.executable, "-m", "emulators", "up", "--emulators=external", "--once",
                                "s3", "ftp"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                               env=clean_env(**env, STORAGE_RUN_ID=run_id + "-up"))
        assert again.returncode == 0, again.stderr
        assert again.stdout.count("# round trip OK") == 2 and again.stdout.splitlines()[-1] == "READY"
        assert [b["Name"] for b in client.list_buckets()["Buckets"] if b["Name"].startswith(run_id)] == []
    finally:
        up.terminate()
        up.wait(30)


def test_a_service_not_on_this_machine_needs_the_live_flag(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.eu-west-1.amazonaws.com")
    with pytest.raises(EmulatorUnavailable, match=r"live service.*--storage-live.*storages-test-"):
        ExternalS3(live=False).start()  # refused before any connection is made
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    with pytest.raises(EmulatorUnavailable, match=r"s3\.us-east-1\.amazonaws\.com is a live service"):
        ExternalS3(live=False).start()


def test_missing_variables_are_named(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(EmulatorUnavailable,
                       match="external s3: set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"):
        ExternalS3().start()


def test_only_loopback_counts_as_local():
    assert is_local("127.0.0.1") and is_local("localhost") and is_local("::1") and is_local("127.9.9.9")
    assert not is_local("s3.amazonaws.com") and not is_local("10.0.0.5") and not is_local(None)


def test_namespaces_are_deleted_even_when_tests_fail(pytester, request):
    """What a live run relies on, checked on emulators treated as external services."""
    s3 = started(request, S3Emulator())
    ftp = started(request, FTPEmulator())
    try:
        run_id = f"storages-test-{uuid.uuid4().hex[:8]}"
        pytester.makeconftest(
            "import django\nfrom django.conf import settings\n\n"
            "def pytest_configure(config):\n"
            "    settings.configure(USE_TZ=True, INSTALLED_APPS=['storages'])\n"
            "    django.setup()\n")
        pytester.makepyfile("""
            import io

            def test_writes_then_fails(storage):
                storage.save("dir/file.txt", io.BytesIO(b"left behind?"))
                assert storage.exists("dir/file.txt")
                raise AssertionError("this test fails after writing")
        """)
        env = clean_env(**s3.env(), **ftp.env(), STORAGE_RUN_ID=run_id)
        for key, value in env.items():
            pytester._monkeypatch.setenv(key, value)
        for name in {n for group in VARIABLES.values() for n in group} - env.keys():
            pytester._monkeypatch.delenv(name, raising=False)
        result = pytester.runpytest_subprocess("--storage-emulators=external", "--storage-backend=s3,ftp",
                                               "-p", "no:cacheprovider", "-p", "no:randomly")
        result.assert_outcomes(failed=2)
        # (moto's state is per process: the session's own S3 emulator has buckets too)
        buckets = [b["Name"] for b in s3.client().list_buckets()["Buckets"]]
        assert [name for name in buckets if name.startswith(run_id)] == []
        assert run_id not in os.listdir(ftp.root_dir)
    finally:
        s3.stop()
        ftp.stop()
