"""The S3 emulator keeps a multipart upload's whole-object CRC32 running (emulators/s3_checksums.py):
the same value moto's own builder gives, without a second copy of the object."""

from __future__ import annotations

import base64
import hashlib
import os
import zlib

import pytest

from emulators import s3_checksums
from emulators.s3_sse import SSECFront

PARTS = [os.urandom(5 * 1024 * 1024 + 17), os.urandom(1 << 20), b"", os.urandom(3)]


def _built(cls, algorithm, checksum_type):
    builder = cls(algorithm, checksum_type)
    for part in PARTS:
        builder.addPart(part)
    return builder


@pytest.fixture(scope="module")
def classes():
    base = s3_checksums.builder_class()
    if base is None:
        pytest.skip("this moto has no MultipartChecksumBuilder")
    return base, s3_checksums.running_builder(base)


@pytest.mark.parametrize("algorithm, checksum_type", [
    ("CRC32", "FULL_OBJECT"), ("CRC32", None), ("CRC32", "COMPOSITE"), ("SHA256", "COMPOSITE"), (None, None)])
def test_the_same_value_as_moto_s_builder(classes, algorithm, checksum_type):
    base, running = classes
    mine, moto_s = _built(running, algorithm, checksum_type), _built(base, algorithm, checksum_type)
    assert mine.build() == moto_s.build()


def test_a_full_object_crc32_holds_no_copy_of_the_object(classes):
    _, running = classes
    builder = _built(running, "CRC32", "FULL_OBJECT")
    whole = zlib.crc32(b"".join(PARTS)).to_bytes(4, "big")
    assert builder.build() == ("FULL_OBJECT", base64.b64encode(whole).decode(), 1)
    assert len(builder.complete_object) == 0


def test_the_emulator_reports_the_whole_object_crc32(s3_emulator):
    """A multipart upload asking for a FULL_OBJECT CRC32 reads back with the object's CRC32
    (the value our S3 reads check), through the emulator's moto, which uses the running builder."""
    if s3_checksums.builder_class() is None:
        pytest.skip("this moto has no MultipartChecksumBuilder")
    if isinstance(s3_emulator.front, SSECFront):  # moto runs in this process: its builder is ours
        assert getattr(s3_checksums.builder_class(), "_running_checksums", False)
    client, bucket = s3_emulator.client(), s3_emulator.new_namespace()["bucket_name"]
    data = b"".join(PARTS[:2])
    created = client.create_multipart_upload(Bucket=bucket, Key="whole", ChecksumAlgorithm="CRC32",
                                             ChecksumType="FULL_OBJECT")
    parts = []
    for number, chunk in enumerate(PARTS[:2], 1):
        sent = client.upload_part(Bucket=bucket, Key="whole", UploadId=created["UploadId"], PartNumber=number,
                                  Body=chunk, ChecksumAlgorithm="CRC32")
        parts.append({"ETag": sent["ETag"], "PartNumber": number, "ChecksumCRC32": sent["ChecksumCRC32"]})
    whole = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    client.complete_multipart_upload(Bucket=bucket, Key="whole", UploadId=created["UploadId"],
                                     MultipartUpload={"Parts": parts}, ChecksumCRC32=whole,
                                     ChecksumType="FULL_OBJECT")
    head = client.head_object(Bucket=bucket, Key="whole", ChecksumMode="ENABLED")
    assert (head.get("ChecksumType"), head.get("ChecksumCRC32")) == ("FULL_OBJECT", whole)
    body = client.get_object(Bucket=bucket, Key="whole")["Body"].read()
    assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()
