"""storage_requests and storage_faults with the plugin's storage fixtures, on every target,
and as context managers in a unittest TestCase."""

from __future__ import annotations

import unittest

import pytest
from django.core.files.base import ContentFile

from emulators.ftp import FTPEmulator
from emulators.observe import storage_faults, storage_requests

#: The operations that store and that read an object, per service.
WRITES = {"s3": {"put", "complete_multipart"}, "gcs": {"put", "complete_multipart"},
          "azure": {"put", "complete_multipart"}, "dropbox": {"put", "complete_multipart"},
          "ftp": {"stor"}, "sftp": {"write"}}
READS = {"s3": "get", "gcs": "get", "azure": "get", "dropbox": "get", "ftp": "retr", "sftp": "read"}
#: How each service says "no such file".
MISSING = {"s3": {"status": 404}, "gcs": {"status": 404}, "azure": {"status": 404},
           "dropbox": {"status": 409, "code": "path/not_found"}, "ftp": {"status": 550},
           "sftp": {"status": 2}}


def test_storage_requests_sees_what_the_storage_does(storage, storage_target, storage_requests):
    storage.save("docs/a.txt", ContentFile(b"hello"))
    with storage.open("docs/a.txt") as f:
        assert f.read() == b"hello"
    services = {call.service for call in storage_requests}
    if storage_target.id == "libcloud-local":
        assert services == set()  # libcloud's local driver is a directory: no service to observe
        return
    (service,) = services
    writes = storage_requests.filter(WRITES[service])  # FTP/SFTP write a temporary name, then rename
    assert writes and sum(call.bytes_in for call in writes) >= 5
    assert storage_requests.filter(key="*docs/a.txt")
    reads = storage_requests.filter(READS[service], key="*docs/a.txt")
    assert reads and sum(call.bytes_out for call in reads) == 5
    assert all(call.status is not None for call in storage_requests)


def test_storage_faults_make_a_read_find_nothing(storage, storage_target, storage_requests, storage_faults):
    storage.save("gone.txt", ContentFile(b"there"))
    if storage_target.id == "libcloud-local":  # a directory: no service call to disturb
        storage_faults.add("*", status=500, times=None)
        assert storage.open("gone.txt").read() == b"there" and storage_faults.fired == []
        return
    service = storage_requests[0].service
    storage_faults.add(READS[service], service=service, times=None, **MISSING[service])
    with pytest.raises(FileNotFoundError):
        with storage.open("gone.txt") as f:
            f.read()
    assert storage_faults.fired and {hit.operation for hit in storage_faults.fired} == {READS[service]}
    assert storage_requests.filter(READS[service])[-1].fault == "status"


def test_emulated_storages_view_makes_one_get_and_no_head(emulated_storages, storage_requests):
    from django.core.files.storage import default_storage

    emulated_storages("s3")
    default_storage.save("report.pdf", ContentFile(b"%PDF-1.4"))
    storage_requests.clear()
    with default_storage.open("report.pdf") as f:  # what a download view does
        assert f.read() == b"%PDF-1.4"
    assert storage_requests.count("get") == 1
    assert storage_requests.count("head") == 0


def test_storage_factory_storages_see_the_faults(storage_factory, storage_target, storage_faults):
    storage = storage_factory()
    storage_faults.add("*", stall=0.01, times=None)  # every call of every service, briefly
    storage.save("slow.txt", ContentFile(b"x"))
    assert storage.exists("slow.txt")
    if storage_target.id == "libcloud-local":  # a directory: no service call to disturb
        assert storage_faults.fired == []
        return
    assert len(storage_faults.fired) >= 2 and {hit.kind for hit in storage_faults.fired} == {"stall"}


class ContextManagersInUnittest(unittest.TestCase):
    """The scopes a unittest/Django TestCase uses: no pytest fixture involved."""

    @classmethod
    def setUpClass(cls):
        cls.emulator = FTPEmulator()
        cls.emulator.start()

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def setUp(self):
        from storages.backends.ftp import FTPStorage

        self.storage = FTPStorage(**self.emulator.new_namespace())
        self.addCleanup(self.storage.close)

    def test_storage_requests_context_manager(self):
        with storage_requests("ftp") as calls:
            self.storage.save("a.txt", ContentFile(b"abc"))
        self.assertEqual(calls.count("stor", status=226), 1)
        self.assertEqual(calls.filter("stor", status=226)[0].bytes_in, 3)
        recorded = len(calls)
        self.storage.exists("a.txt")
        self.assertEqual(len(calls), recorded)  # the scope is closed

    def test_storage_faults_context_manager(self):
        self.storage.save("b.txt", ContentFile(b"abc"))
        with storage_faults("ftp:retr=550,times=inf") as faults:
            with self.assertRaises(FileNotFoundError):
                self.storage.open("b.txt").read()
        self.assertEqual(faults.fired[0].operation, "retr")
        self.assertEqual(self.storage.open("b.txt").read(), b"abc")  # disarmed at the block's end
