"""The S3 emulator honours the common lifecycle (emulators/base.py)."""

import socket
import sys

import pytest

from emulators.base import free_port
from emulators.s3 import S3Emulator


def _listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_lifecycle_start_reset_stop():
    emulator = S3Emulator()
    assert not emulator.health()
    with emulator:
        assert emulator.health()
        assert emulator.host == "127.0.0.1" and _listening(emulator.port)
        client = emulator.client()
        options = emulator.new_namespace()
        client.put_object(Bucket=options["bucket_name"], Key="k", Body=b"v")
        emulator.reset()
        names = [b["Name"] for b in client.list_buckets()["Buckets"]]
        assert options["bucket_name"] not in names  # wiped
        assert emulator.storage_options()["bucket_name"] in names  # default bucket is back
        port = emulator.port
    assert not _listening(port)
    emulator.stop()  # idempotent


def test_server_binds_loopback_only():
    with S3Emulator() as emulator:
        bound = emulator._server._server.server_address[0]
        assert bound == "127.0.0.1"


def test_env_points_the_sdk_at_the_emulator(monkeypatch):
    import boto3

    with S3Emulator() as emulator:
        for key, value in emulator.env().items():
            monkeypatch.setenv(key, value)
        client = boto3.client("s3")  # configured only by the environment
        buckets = [b["Name"] for b in client.list_buckets()["Buckets"]]
        assert emulator.storage_options()["bucket_name"] in buckets


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


@pytest.mark.parametrize("overrides", [{"location": "media"}, {}])
def test_storage_options_round_trip(overrides):
    from django.core.files.base import ContentFile

    from storages.backends.s3 import S3Storage

    with S3Emulator() as emulator:
        storage = S3Storage(**emulator.new_namespace(**overrides))
        storage.save("x.txt", ContentFile(b"x"))
        key = f"{overrides['location']}/x.txt" if overrides else "x.txt"
        assert emulator.client().get_object(Bucket=storage.bucket_name, Key=key)["Body"].read() == b"x"


def test_process_emulators_do_not_outlive_a_killed_parent(tmp_path):
    """A test run killed with SIGKILL never runs stop(): its emulator processes must still go."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import time\n"
        "from emulators.gcs import GCSEmulator\n"
        "e = GCSEmulator(); e.start()\n"
        "print(e._process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=root, stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    os.kill(child, 0)  # running
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child, signal.SIGKILL)
    raise AssertionError("the emulator process outlived its killed parent")


def test_a_missing_server_library_says_what_to_install(monkeypatch):
    from emulators.base import EmulatorUnavailable

    monkeypatch.setitem(sys.modules, "moto.server", None)  # as if moto were not installed
    expected = r"S3 emulator.*needs moto\.server.*django-storages\[emulators\]"
    with pytest.raises(EmulatorUnavailable, match=expected):
        S3Emulator().start()
