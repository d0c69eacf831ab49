"""Reads honour get_object_parameters() on GCS (issue 15 item 2): a customer-supplied
encryption key (``encryption_key``) on uploads and reads, a pinned ``generation`` on reads.
fake-gcs-server serves CSEK objects to anyone; the emulator's front refuses what GCS refuses
(emulators/gcs_front.py), so these tests fail if a read forgets the key."""

from __future__ import annotations

import base64
import os
import pickle

import pytest
from django.core.files.base import ContentFile

from emulators.gcs_front import GCSFront
from storages.backends.gcloud import GoogleCloudStorage
from storages.core import StorageError
from tests.support import assert_reads_first_version, pinned_to

KEY = os.urandom(32)
PART = 256 * 1024


@pytest.fixture
def csek(gcs_emulator):
    if not isinstance(gcs_emulator.front, GCSFront):
        pytest.skip("fake-gcs-server does not check customer-supplied keys; only the in-process "
                    "emulator's front does (emulators/gcs_front.py)")


def test_csek_objects_are_written_and_read_with_their_key(csek, make_storage):
    storage = make_storage(object_parameters={"encryption_key": KEY}, blob_chunk_size=PART)
    small, large = b"customer-keyed", os.urandom(2 * PART + 10)
    storage.save("small.txt", ContentFile(small))
    storage.save("large.bin", ContentFile(large))  # a resumable session begun with the key
    assert storage.size("small.txt") == len(small) and storage.exists("large.bin")
    assert storage.open("small.txt").read() == small
    with storage.open("large.bin") as f:
        f.seek(PART)  # a ranged GET carries the key too
        assert f.read() == large[PART:]


def test_without_the_key_or_with_another_gcs_refuses(csek, make_storage):
    make_storage(object_parameters={"encryption_key": KEY}).save("locked.txt", ContentFile(b"locked"))
    with pytest.raises(StorageError, match="ResourceIsEncryptedWithCustomerEncryptionKey|encrypted"):
        make_storage().open("locked.txt")
    with pytest.raises(StorageError, match="incorrect"):
        make_storage(object_parameters={"encryption_key": os.urandom(32)}).open("locked.txt")


def test_the_key_stays_out_of_pickles_and_messages(make_storage):
    storage = make_storage(object_parameters={"encryption_key": KEY, "cache_control": "no-cache"})
    data = pickle.dumps(storage)
    assert KEY not in data and base64.b64encode(KEY) not in data
    assert pickle.loads(data).object_parameters == {"cache_control": "no-cache"}
    assert "encryption_key" not in str(storage.deconstruct())
    encoded = base64.b64encode(KEY).decode()
    assert encoded not in storage.redact(f"header {encoded}")


def test_generation_reads_that_generation(gcs_emulator, make_storage):
    bucket = gcs_emulator.client().get_bucket(make_storage.bucket_name)
    bucket.versioning_enabled = True
    bucket.patch()
    writer = make_storage(file_overwrite=True)
    writer.save("terms.txt", ContentFile(b"first version"))
    first = bucket.get_blob("terms.txt").generation
    writer.save("terms.txt", ContentFile(b"second"))

    pinned = make_storage(pinned_to(GoogleCloudStorage, "terms.txt", generation=first))
    assert_reads_first_version(pinned, writer)
