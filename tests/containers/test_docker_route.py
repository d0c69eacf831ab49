"""The docker route with a real engine: containers started, labelled, health-gated and
removed (also when their owner is killed). Skipped, with the reason, where no engine
answers (fails under --storage-strict): `./dev docker-setup` starts one."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from emulators import containers
from emulators.base import EmulatorUnavailable, wait_until
from emulators.containers import DropboxContainer
from emulators.docker_engine import OWNER_LABEL, docker_client, engine_url, labelled, owner_id
from emulators.modes import NativeOnly
from emulators.session import EmulatorSession
from tests.support import _unavailable


@pytest.fixture(scope="module")
def engine(request):
    try:
        engine_url()
        return docker_client()
    except EmulatorUnavailable as exc:
        _unavailable(request.config, "the docker route", exc)


def owned(client, owner):
    return labelled(client, f"{OWNER_LABEL}={owner}")


def test_session_in_docker_mode_runs_the_compose_service_and_removes_it(engine):
    from storages.backends.s3 import S3Storage

    with EmulatorSession("docker") as session:
        s3 = session.get("s3")
        [container] = owned(engine, owner_id())
        assert container.image.tags == ["motoserver/moto:5.2.5"]
        assert container.labels["org.django-storages.service"] == "s3"
        storage = S3Storage(**s3.new_namespace())
        name = storage.save("a/b.txt", io.BytesIO(b"in a container"))
        assert storage.open(name).read() == b"in a container"
        raw = s3.client().get_object(Bucket=storage.bucket_name, Key="a/b.txt")
        assert raw["Body"].read() == b"in a container"
    assert owned(engine, owner_id()) == []


def test_a_killed_owner_leaves_no_container(engine):
    script = textwrap.dedent("""
        import time
        from emulators.session import EmulatorSession
        session = EmulatorSession("docker")
        session.get("dropbox")
        print("UP", flush=True)
        time.sleep(600)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "DOCKER_HOST": engine_url()})
    try:
        assert child.stdout.readline().strip() == "UP"
        owner = owner_id(child.pid)
        assert len(owned(engine, owner)) == 1
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        assert wait_until(lambda: owned(engine, owner) == [], 15, 0.2), "the watchdog left the container"
    finally:
        child.kill()


def test_unbuilt_image_says_how_to_build_it(engine, tmp_path, monkeypatch):
    compose = tmp_path / "compose.yml"
    compose.write_text(textwrap.dedent("""
        services:
          s3:
            image: django-storages/not-built:1
            x-storages: {port: 5000}
    """))
    monkeypatch.setenv("STORAGE_COMPOSE_FILE", str(compose))
    with pytest.raises(EmulatorUnavailable) as caught:
        EmulatorSession("docker").get("s3")
    message = str(caught.value)
    assert "django-storages/not-built:1" in message and "python -m emulators.images build s3" in message


def test_without_an_engine_the_error_says_where_it_looked(monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    engine_url.cache_clear()
    try:
        with pytest.raises(EmulatorUnavailable, match=r"\$DOCKER_HOST: no such socket.*\./dev docker-setup"):
            engine_url()
    finally:
        engine_url.cache_clear()


def test_in_process_features_are_declared_not_faked():
    emulator = DropboxContainer()
    with pytest.raises(NativeOnly, match="DropboxContainer.store: the fake's store lives in the container"):
        emulator.store  # noqa: B018
    with pytest.raises(NativeOnly, match="FTPContainer.inject"):
        containers.FTPContainer().inject("STOR")


def test_cli_up_in_docker_mode(engine):
    """`python -m emulators up --emulators=docker`: the settings point at the container,
    the round trip passes through it, and nothing is left when it exits."""
    import json

    result = subprocess.run(
        [sys.executable, "-m", "emulators", "up", "--emulators=docker", "--json", "--once", "dropbox"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "DOCKER_HOST": engine_url()})
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout.splitlines()[0])
    assert described["options"]["api_endpoint"] == described["endpoint"]
    assert described["external_env"] == {"DROPBOX_OAUTH2_TOKEN": "fake-dropbox-access-token",
                                         "DROPBOX_API_ENDPOINT": described["endpoint"]}
    assert result.stdout.splitlines()[-1] == "READY"
    assert labelled(engine, "org.django-storages.service=dropbox") == []


def test_ctrl_c_on_the_cli_removes_its_containers(engine, tmp_path):
    """Ctrl-C right after the emulator is described (while the CLI may still be printing)."""
    errors = tmp_path / "stderr.txt"
    with errors.open("w") as stderr:
        command = [sys.executable, "-X", "faulthandler", "-m", "emulators", "up", "--emulators=docker",
                   "--json", "--no-smoke", "ftp"]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True,
                                 env={**os.environ, "DOCKER_HOST": engine_url()})
    try:
        assert '"name": "ftp"' in child.stdout.readline()
        owner = owner_id(child.pid)
        assert len(owned(engine, owner)) == 1
        child.send_signal(signal.SIGINT)
        try:
            code = child.wait(30)
        except subprocess.TimeoutExpired:
            child.send_signal(signal.SIGABRT)  # faulthandler writes every thread's stack
            child.wait(10)
            threads = errors.read_text()[-6000:]
            pytest.fail(f"the CLI did not end within 30 s of Ctrl-C; its threads:\n{threads}")
        assert code == 0, errors.read_text()[-3000:]
        assert owned(engine, owner) == []  # removed by the CLI itself, not by the watchdog later
    finally:
        child.kill()
