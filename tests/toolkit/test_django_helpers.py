"""emulators.django in this process: the context manager, the decorators, the runner's suite
scan, skipping an emulator that cannot run, and what a forked worker shares with its parent."""

from __future__ import annotations

import multiprocessing
import unittest

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from emulators import django as emulated_django
from emulators.base import EmulatorUnavailable
from emulators.django import EmulatedStoragesMixin, backends_in, emulated_storages
from emulators.session import EmulatorSession


@pytest.fixture
def s3(s3_emulator):
    """The session's S3 emulator (skips when it cannot run), which emulators.django also uses."""
    return s3_emulator


def test_context_manager_overrides_and_restores(s3):
    before = settings.STORAGES
    emulated = emulated_storages("s3")
    with emulated as storage:
        assert storage is storages["default"]
        assert settings.STORAGES["default"]["OPTIONS"] == emulated.options
        assert settings.STORAGES["staticfiles"]["OPTIONS"] == emulated.options
        assert emulated.emulator is s3
        first_bucket = emulated.options["bucket_name"]
        default_storage.save("a.txt", ContentFile(b"a"))
        assert emulated.namespace.keys() == ["a.txt"]
        with emulated as inner:  # nested: a fresh namespace, then the outer one again
            assert inner.bucket_name != first_bucket and inner.listdir("") == ([], [])
        assert emulated.options["bucket_name"] == first_bucket
    assert settings.STORAGES == before
    with pytest.raises(RuntimeError, match=r"emulated_storages\('s3'\) is not active"):
        emulated.namespace  # noqa: B018


def test_bad_uses_are_refused():
    with pytest.raises(ValueError, match="unknown storage backend 'nosuch'; valid: s3, gcs"):
        emulated_storages("nosuch")
    with pytest.raises(ValueError, match="at least one STORAGES alias"):
        emulated_storages("s3", aliases=())
    with pytest.raises(TypeError, match="decorates TestCase classes and functions"):
        emulated_storages("s3")(type("NotATest", (), {}))


def run_tests(*classes: type) -> unittest.TestResult:
    suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in classes)
    result = unittest.TestResult()
    suite.run(result)
    return result


def test_class_decorator_and_mixin_give_each_test_a_fresh_namespace(s3):
    buckets: list[str] = []

    class Checks:
        def setUp(self):
            super().setUp()
            buckets.append(self.storage.bucket_name)  # setUp already sees the override

        def test_one(self):
            assert default_storage.listdir("") == ([], [])
            default_storage.save("one.txt", ContentFile(b"1"))
            assert self.storage_namespace.keys() == ["one.txt"]

        def test_two(self):
            assert self.storage_namespace.keys() == []
            assert storages["staticfiles"].bucket_name == self.storage.bucket_name

    @emulated_storages("s3")
    class Decorated(Checks, unittest.TestCase):
        pass

    class Mixed(EmulatedStoragesMixin, Checks, unittest.TestCase):
        storages_backend = "s3"
        storages_options = {"file_overwrite": False}

        def test_options(self):
            assert self.storage.save("x", ContentFile(b"")) == "x"
            assert self.storage.save("x", ContentFile(b"")) != "x"

    before = settings.STORAGES
    result = run_tests(Decorated, Mixed)
    assert (result.testsRun, result.errors, result.failures, result.skipped) == (5, [], [], [])
    assert len(set(buckets)) == 5
    assert settings.STORAGES == before
    assert backends_in(unittest.defaultTestLoader.loadTestsFromTestCase(Decorated)) == ["s3"]


def test_method_decorator_and_suite_scan():
    class Methods(unittest.TestCase):
        @emulated_storages("ftp", aliases=("default",))
        def test_ftp(self):
            assert type(storages["default"]).__name__ == "FTPStorage"
            assert type(storages["staticfiles"]).__name__ != "FTPStorage"

        def test_plain(self):
            pass

    class OnGCS(EmulatedStoragesMixin, unittest.TestCase):
        storages_backend = "gcs"

        def test_x(self):
            pass

    loader = unittest.defaultTestLoader
    suite = unittest.TestSuite([loader.loadTestsFromTestCase(Methods), loader.loadTestsFromTestCase(OnGCS)])
    assert backends_in(suite) == ["ftp", "gcs"]
    result = run_tests(Methods)
    assert (result.testsRun, result.errors, result.failures) == (2, [], [])


class _NoEmulators(EmulatorSession):
    def get(self, name):
        raise EmulatorUnavailable(f"pretend {name} needs Node.js: install Node.js")


def test_an_emulator_that_cannot_run_skips_unless_strict(monkeypatch):
    emulators = emulated_django._ProcessEmulators()
    monkeypatch.setattr(emulated_django, "_EMULATORS", emulators)
    emulators.use(_NoEmulators(), strict=False)
    with pytest.raises(unittest.SkipTest, match="the azure emulator cannot run here: pretend azure needs"):
        emulated_storages("azure").start()
    emulators.use(_NoEmulators(), strict=True)
    with pytest.raises(EmulatorUnavailable, match="pretend azure"):
        emulated_storages("azure").start()


def _in_forked_child(emulators, queue):
    inherited = emulators.get("s3")
    own = emulators.get("ftp")
    queue.put((inherited.port, inherited.health(), own.port))
    # the child exits normally: multiprocessing runs the finalizer that stops what it started


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_a_forked_worker_uses_the_parents_emulators_and_stops_only_its_own(monkeypatch):
    emulators = emulated_django._ProcessEmulators()
    monkeypatch.setenv("STORAGE_STRICT", "1")
    parent_s3 = emulators.get("s3")
    try:
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_in_forked_child, args=(emulators, queue))
        child.start()
        s3_port, healthy, ftp_port = queue.get(timeout=60)
        child.join(timeout=60)
        assert child.exitcode == 0
        assert (s3_port, healthy) == (parent_s3.port, True)  # not a second S3 emulator
        assert parent_s3.health()  # the child did not stop the parent's
        import socket

        with pytest.raises(OSError):  # the child's own FTP emulator stopped with it
            socket.create_connection(("127.0.0.1", ftp_port), timeout=2).close()
    finally:
        emulators.stop()
    assert not parent_s3.health()


def test_decorates_async_functions(s3):
    import asyncio

    @emulated_storages("s3", aliases=("default",))
    async def view_test():
        return settings.STORAGES["default"]["OPTIONS"]["bucket_name"], storages["default"].bucket_name

    before = settings.STORAGES
    configured, used = asyncio.run(view_test())
    assert configured == used and view_test.storages_backend == "s3"
    assert settings.STORAGES == before
