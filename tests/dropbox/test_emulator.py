"""The Dropbox fake's lifecycle, options/env, and the unmodified SDK reaching it over HTTPS."""

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from emulators.dropbox import DropboxEmulator, conformance_target
from storages.backends.dropbox import DropboxStorage


@pytest.fixture
def own_emulator():
    emulator = DropboxEmulator()
    emulator.start()
    yield emulator
    emulator.stop()


def _listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_lifecycle(own_emulator):
    emulator = own_emulator
    assert emulator.started and emulator.health()
    assert emulator.port != emulator.https_port
    assert _listening(emulator.port) and _listening(emulator.https_port)
    workdir = emulator._workdir
    assert workdir.is_dir()
    emulator.start()  # idempotent
    ports = emulator.port, emulator.https_port
    emulator.stop()
    emulator.stop()  # idempotent
    assert not emulator.health() and not emulator.started
    assert not any(_listening(port) for port in ports)
    assert not workdir.exists()


def test_reset_wipes_files_sessions_and_cursors_fast(own_emulator):
    storage = DropboxStorage(**own_emulator.storage_options())
    for i in range(50):
        storage.save(f"d/f{i}", ContentFile(b"x" * 100))
    client = own_emulator.client()
    client.files_upload_session_start(b"pending")
    store = own_emulator.store
    assert store.entries and store.sessions
    started = time.perf_counter()
    own_emulator.reset()
    assert time.perf_counter() - started < 1
    assert not store.entries and not store.sessions and not store.snapshots
    assert not any((own_emulator._workdir / "data" / "blobs").iterdir())
    assert storage.listdir("") == ([], [])
    storage.save("after.txt", ContentFile(b"token still valid"))
    assert storage.open("after.txt").read() == b"token still valid"


def test_options_and_namespaces(dropbox_emulator):
    options = dropbox_emulator.storage_options(timeout=5)
    assert options["api_endpoint"] == dropbox_emulator.endpoint and options["timeout"] == 5
    first, second = dropbox_emulator.new_namespace(), dropbox_emulator.new_namespace()
    assert first["root_path"] != second["root_path"] and first["root_path"].startswith("/")
    backend, target = conformance_target(lambda name: dropbox_emulator)
    assert backend == "storages.backends.dropbox.DropBoxStorage"
    assert target["root_path"] not in (first["root_path"], second["root_path"])


def test_env_is_exactly_the_sdk_host_variables_and_a_ca_bundle(dropbox_emulator):
    env = dropbox_emulator.env()
    host = f"127.0.0.1:{dropbox_emulator.https_port}"
    assert env == {"DROPBOX_API_HOST": host, "DROPBOX_API_CONTENT_HOST": host,
                   "DROPBOX_API_NOTIFY_HOST": host, "REQUESTS_CA_BUNDLE": env["REQUESTS_CA_BUNDLE"]}
    bundle = Path(env["REQUESTS_CA_BUNDLE"]).read_text()
    import certifi

    assert Path(certifi.where()).read_text().strip() in bundle  # public CAs still trusted
    assert bundle.count("BEGIN CERTIFICATE") > 1


SDK_SCRIPT = textwrap.dedent("""
    import sys, dropbox
    from dropbox import files
    dbx = dropbox.Dropbox(sys.argv[1])  # the plain SDK: no session, no host, no CA given
    md = dbx.files_upload(b"over https", "/https/check.txt", mode=files.WriteMode.overwrite)
    _, response = dbx.files_download("/https/check.txt")
    names = [e.name for e in dbx.files_list_folder("/https").entries]
    link = dbx.files_get_temporary_link("/https/check.txt").link
    print(response.content.decode(), names, link.split(":")[0], md.size)
""")


def test_unmodified_sdk_reaches_the_fake_through_env(dropbox_emulator):
    env = {**os.environ, **dropbox_emulator.env()}
    result = subprocess.run([sys.executable, "-c", SDK_SCRIPT, dropbox_emulator.token], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["over", "https", "['check.txt']", "https", "10"]


def test_without_the_ca_bundle_the_sdk_refuses_the_certificate(dropbox_emulator):
    env = {**os.environ, **dropbox_emulator.env()}
    env.pop("REQUESTS_CA_BUNDLE")
    env.pop("CURL_CA_BUNDLE", None)
    script = "import sys, dropbox; dropbox.Dropbox(sys.argv[1], max_retries_on_error=0).files_list_folder('')"
    result = subprocess.run([sys.executable, "-c", script, dropbox_emulator.token], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in result.stderr


def test_backend_over_https_with_the_bundle(dropbox_emulator, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", dropbox_emulator.env()["REQUESTS_CA_BUNDLE"])
    storage = DropboxStorage(**dropbox_emulator.new_namespace(api_endpoint=dropbox_emulator.https_endpoint))
    storage.save("secure.txt", ContentFile(b"tls"))
    assert storage.open("secure.txt").read() == b"tls"
    assert storage.url("secure.txt").startswith(dropbox_emulator.https_endpoint + "/")


def test_tls_can_be_turned_off():
    from emulators.base import EmulatorUnavailable

    emulator = DropboxEmulator(tls=False)
    emulator.start()
    try:
        assert emulator.https_port is None and emulator.health()
        with pytest.raises(EmulatorUnavailable, match="without TLS"):
            emulator.env()
    finally:
        emulator.stop()


def test_downstream_fixture_points_storages_at_the_fake(emulated_storages):
    from django.core.files.storage import default_storage, storages

    storage = emulated_storages("dropbox")
    assert isinstance(storage, DropboxStorage) and storages["staticfiles"].root_path == storage.root_path
    name = default_storage.save("downstream.txt", ContentFile(b"via STORAGES"))
    assert storage.open(name).read() == b"via STORAGES"
