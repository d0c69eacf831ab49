"""Reads honour get_object_parameters() on Azure (issue 15 item 2): a customer-provided key
(``cpk``, over HTTPS) on uploads and reads, and a ``snapshot`` or ``version_id`` to read.
Azurite serves CPK blobs to anyone; the emulator's front refuses what Azure refuses
(emulators/azure_cpk.py). Azurite has no blob versions: ``version_id`` is checked on the wire."""

from __future__ import annotations

import base64
import hashlib
import os
import pickle

import pytest
from django.core.files.base import ContentFile

from emulators.azure_cpk import AzureFront
from storages.backends.azure_storage import AzureStorage
from storages.core import StorageError
from tests.support import assert_reads_first_version, pinned_to, storage_maker


def _cpk(key: bytes):
    from azure.storage.blob import CustomerProvidedEncryptionKey

    return CustomerProvidedEncryptionKey(base64.b64encode(key).decode(),
                                         base64.b64encode(hashlib.sha256(key).digest()).decode())


KEY = os.urandom(32)


@pytest.fixture
def make_https(azure_https_emulator):
    if not isinstance(azure_https_emulator.front, AzureFront):
        pytest.skip("Azurite does not check customer-provided keys; only the in-process emulator's "
                    "front does (emulators/azure_cpk.py)")
    with storage_maker(AzureStorage, azure_https_emulator.new_namespace()) as make:
        yield make


def test_cpk_blobs_are_written_and_read_with_their_key(make_https):
    storage = make_https(object_parameters={"cpk": _cpk(KEY)}, max_memory_size=64 * 1024)
    small, large = b"customer-keyed", os.urandom(3 * 64 * 1024 + 5)
    storage.save("small.txt", ContentFile(small))
    storage.save("large.bin", ContentFile(large))  # staged blocks and the block list carry the key
    assert storage.exists("small.txt") and storage.size("large.bin") == len(large)
    assert storage.open("small.txt").read() == small
    with storage.open("large.bin") as f:
        f.seek(1000)
        assert f.read() == large[1000:]


def test_without_the_key_or_with_another_azure_refuses(make_https):
    make_https(object_parameters={"cpk": _cpk(KEY)}).save("locked.txt", ContentFile(b"locked"))
    with pytest.raises(StorageError, match="BlobUsesCustomerSpecifiedEncryption.*cpk"):
        make_https().open("locked.txt")
    with pytest.raises(StorageError, match="BlobCustomerSpecifiedEncryptionMismatch"):
        make_https(object_parameters={"cpk": _cpk(os.urandom(32))}).size("locked.txt")


def test_the_key_stays_out_of_pickles_and_messages(make_storage):
    storage = make_storage(object_parameters={"cpk": _cpk(KEY), "cache_control": "no-cache"})
    data = pickle.dumps(storage)
    assert base64.b64encode(KEY) not in data
    assert pickle.loads(data).object_parameters == {"cache_control": "no-cache"}
    assert base64.b64encode(KEY).decode() not in storage.redact(f"x {base64.b64encode(KEY).decode()}")


def test_snapshot_reads_that_snapshot(make_storage, raw_container):
    writer = make_storage(file_overwrite=True)
    writer.save("terms.txt", ContentFile(b"first version"))
    snapshot = raw_container.get_blob_client("terms.txt").create_snapshot()["snapshot"]
    writer.save("terms.txt", ContentFile(b"second"))

    pinned = make_storage(pinned_to(AzureStorage, "terms.txt", snapshot=snapshot))
    assert_reads_first_version(pinned, writer)


def test_version_id_goes_on_every_read(make_storage, storage_requests):
    storage = make_storage()
    storage.save("v.txt", ContentFile(b"v"))
    pinned = make_storage(object_parameters={"version_id": "2026-01-01T00:00:00.0000000Z"})
    storage_requests.clear()
    for read in (lambda: pinned.size("v.txt"), lambda: pinned.open("v.txt").read()):
        try:
            read()
        except (FileNotFoundError, StorageError):
            pass  # Azurite has no versions: what matters is what was asked
    reads = storage_requests.filter(("head", "get"), key="v.txt")
    assert reads and all("versionid=2026-01-01" in call.request for call in reads)
    storage_requests.clear()
    pinned.save("w.txt", ContentFile(b"w"))  # uploads take no version
    assert not any("versionid" in call.request for call in storage_requests)
