"""Checksums end to end on block blobs: each block's Content-MD5 (Azure refuses a damaged
block), and the blob's CRC32 that the commit stores, which reads check."""

from __future__ import annotations

import base64
import zlib

import pytest
from django.core.files.base import ContentFile

from storages.backends.azure_storage.transfer import CRC32_METADATA
from storages.core import ChecksumMismatch

KB = 1024
DATA = bytes(range(251)) * (4 * 64 * KB // 251 + 7)  # four 64 KiB blocks and a tail


def test_a_block_blob_stores_its_crc32_and_a_damaged_read_is_an_error(make_storage, raw_container,
                                                                      storage_faults):
    storage = make_storage(max_memory_size=64 * KB, file_overwrite=True)
    assert storage.save("sum.bin", ContentFile(DATA)) == "sum.bin"
    committed, _ = raw_container.get_blob_client("sum.bin").get_block_list("committed")
    assert len(committed) == 5
    metadata = raw_container.get_blob_client("sum.bin").get_blob_properties().metadata
    assert base64.b64decode(metadata[CRC32_METADATA]) == zlib.crc32(DATA).to_bytes(4, "big")
    assert storage.open("sum.bin").read() == DATA
    storage_faults.add("get", corrupt=100 * KB, service="azure")
    with pytest.raises(ChecksumMismatch, match="crc32"):
        storage.open("sum.bin").read()
    assert [hit.kind for hit in storage_faults.fired] == ["corrupt"]


def test_a_block_damaged_in_transit_is_refused_and_nothing_is_stored(make_storage, raw_container,
                                                                     storage_faults):
    storage = make_storage(max_memory_size=64 * KB, file_overwrite=True)
    storage_faults.add("upload_part", corrupt=10, service="azure")
    with pytest.raises(ChecksumMismatch):
        storage.save("damaged.bin", ContentFile(DATA))
    assert not raw_container.get_blob_client("damaged.bin").exists()


def test_without_checksums_the_commit_stores_no_crc32(make_storage, raw_container):
    storage = make_storage(max_memory_size=64 * KB, file_overwrite=True)
    storage.checksums = False
    storage.save("plain.bin", ContentFile(DATA))
    assert CRC32_METADATA not in raw_container.get_blob_client("plain.bin").get_blob_properties().metadata
    assert storage.open("plain.bin").read() == DATA
