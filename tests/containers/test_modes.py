"""--storage-emulators as a downstream project sees it (pytester runs a separate pytest)."""

import pytest

from emulators.modes import resolve_mode
from emulators.session import EmulatorSession

pytest_plugins = ["pytester"]

CONFTEST = '''
import django
from django.conf import settings


def pytest_configure(config):
    settings.configure(USE_TZ=True, INSTALLED_APPS=["storages"])
    django.setup()
'''


def test_unknown_mode_is_a_usage_error(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("--storage-emulators=podman", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--storage-emulators: unknown mode 'podman'; valid: native, docker, external*"])


def test_docker_mode_without_an_engine_skips_with_the_reason(pytester, monkeypatch):
    monkeypatch.delenv("STORAGE_STRICT", raising=False)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile("def test_x(storage): pass\n\ndef test_native_only(): pass")
    result = pytester.runpytest_subprocess("--storage-emulators=docker", "--storage-backend=s3",
                                           "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*the s3 emulator cannot run here: no Docker engine answered "
                                 "($DOCKER_HOST: no such socket)*docker-setup*"])


def test_mode_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATORS", "external")
    assert EmulatorSession().mode == "external" and EmulatorSession("native").mode == "native"
    monkeypatch.delenv("STORAGE_EMULATORS")
    assert resolve_mode() == "native"
    with pytest.raises(ValueError, match="unknown emulator mode 'vm'"):
        EmulatorSession("vm")
