"""Reads honour ``get_object_parameters()`` (upstream #879, #1286, #1451, #1023): SSE-C keys,
VersionId, ChecksumMode, RequestPayer and ExpectedBucketOwner reach HEAD and GET.

moto ignores SSE-C and expected bucket owners; the emulator's front refuses what S3
refuses (emulators/s3_sse.py), so these tests fail if a read forgets them."""

from __future__ import annotations

import base64
import os
import pickle

import pytest
from django.core.files.base import ContentFile

from emulators.s3_sse import ACCOUNT, SSECFront
from storages.backends.s3 import S3Storage
from storages.backends.s3.params import READ, read_parameters, upload_parameters
from storages.core import StorageError
from tests.support import assert_reads_first_version

KEY = os.urandom(32)
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}


def _secret_texts(key: bytes = KEY) -> list[str]:
    return [base64.b64encode(key).decode(), key.hex()]


@pytest.fixture
def sse_c(s3_emulator):
    """The front that checks SSE-C keys and bucket owners; where none stands before moto
    (a container), the test is skipped: moto itself serves such reads."""
    if not isinstance(s3_emulator.front, SSECFront):
        pytest.skip("moto checks neither SSE-C keys nor expected bucket owners; only the in-process "
                    "emulator's front does (emulators/s3_sse.py)")
    return s3_emulator.front


def test_the_read_subset_is_boto3s():
    from boto3.s3.transfer import S3Transfer

    assert set(READ) == set(S3Transfer.ALLOWED_DOWNLOAD_ARGS)
    params = {"VersionId": "v", "ChecksumMode": "ENABLED", "ACL": "private", **SSE_C}
    assert read_parameters(params) == {"VersionId": "v", "ChecksumMode": "ENABLED", **SSE_C}
    assert upload_parameters(params) == {"ACL": "private", **SSE_C}


def test_sse_c_objects_are_read_with_their_key(sse_c, make_storage):
    storage = make_storage(object_parameters=SSE_C)
    storage.part_size = 5 * 1024 * 1024
    small, large = b"customer-keyed", os.urandom(storage.part_size + 1024)
    storage.save("small.txt", ContentFile(small))
    storage.save("large.bin", ContentFile(large))  # multipart: every part carries the key
    assert storage.exists("small.txt") and storage.size("small.txt") == len(small)
    assert storage.open("small.txt").read() == small
    assert storage.get_modified_time("small.txt") is not None
    with storage.open("large.bin") as f:
        f.seek(storage.part_size)  # a ranged GET carries the key too
        assert f.read() == large[storage.part_size:]
    storage.delete("small.txt")
    assert not storage.exists("small.txt")


def test_without_the_key_s3_refuses_and_says_why(sse_c, make_storage):
    make_storage(object_parameters=SSE_C).save("locked.txt", ContentFile(b"locked"))
    plain = make_storage()
    with pytest.raises(StorageError, match="SSECustomerKey"):
        plain.open("locked.txt")
    with pytest.raises(StorageError, match="SSE-C"):
        plain.size("locked.txt")


def test_another_key_is_refused_and_no_key_is_ever_shown(sse_c, make_storage):
    make_storage(object_parameters=SSE_C).save("locked.txt", ContentFile(b"locked"))
    other = os.urandom(32)
    wrong = make_storage(object_parameters={**SSE_C, "SSECustomerKey": other})
    with pytest.raises(PermissionError) as info:
        wrong.open("locked.txt")
    shown = str(info.value) + repr(wrong) + str(pickle.dumps(wrong)) + str(wrong.deconstruct())
    assert not any(text in shown for text in _secret_texts(other))
    assert other not in pickle.dumps(wrong)


def test_sse_c_keys_stay_out_of_pickles_and_messages(make_storage):
    text_key = base64.b64encode(KEY).decode()[:32]  # a key given as text
    storage = make_storage(object_parameters={"SSECustomerAlgorithm": "AES256", "SSECustomerKey": text_key,
                                              "ACL": "private"})
    restored = pickle.loads(pickle.dumps(storage))
    assert text_key.encode() not in pickle.dumps(storage)
    assert restored.object_parameters == {"ACL": "private"}  # SSE-C is given again by settings
    assert "SSECustomerKey" not in str(storage.deconstruct())
    error = storage.unexpected_error(ValueError(f"bad header {text_key}"), "a.txt")
    assert text_key not in str(error) and "***" in str(error)

    class PerName(S3Storage):
        def get_object_parameters(self, name):
            return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}

    per_name = PerName(**make_storage.options)
    encoded = base64.b64encode(KEY).decode()
    assert encoded not in str(per_name.unexpected_error(ValueError(f"key {encoded}"), "a.txt"))


def test_version_id_reads_that_version(s3_emulator, make_storage):
    client = s3_emulator.client()
    client.put_bucket_versioning(Bucket=make_storage.bucket, VersioningConfiguration={"Status": "Enabled"})
    writer = make_storage(file_overwrite=True)
    writer.save("terms.txt", ContentFile(b"first version"))
    first_version = client.head_object(Bucket=make_storage.bucket, Key="terms.txt")["VersionId"]
    writer.save("terms.txt", ContentFile(b"second"))

    class PinnedTerms(S3Storage):
        def get_object_parameters(self, name):
            params = super().get_object_parameters(name)
            if name == "terms.txt":
                params["VersionId"] = first_version  # HEAD and GET read this version
            return params

    pinned = make_storage(PinnedTerms)  # docs/s3.md shows this class: keep them alike
    assert_reads_first_version(pinned, writer)
    pinned.save("other.txt", ContentFile(b"an upload takes no VersionId"))
    assert writer.open("other.txt").read() == b"an upload takes no VersionId"


def test_expected_bucket_owner_is_checked_on_reads(sse_c, make_storage):
    make_storage().save("owned.txt", ContentFile(b"owned"))
    owner = make_storage(object_parameters={"ExpectedBucketOwner": ACCOUNT})
    assert owner.open("owned.txt").read() == b"owned"
    stranger = make_storage(object_parameters={"ExpectedBucketOwner": "999999999999"})
    with pytest.raises(PermissionError):
        stranger.size("owned.txt")
    with pytest.raises(PermissionError):
        stranger.open("owned.txt")


def test_checksum_mode_and_request_payer_go_on_the_wire(make_storage):
    """moto answers these without checking them: what is checked is that HEAD and GET send
    the headers (botocore's ``before-send`` event sees each request as it leaves)."""
    params = {"ChecksumMode": "ENABLED", "RequestPayer": "requester"}
    storage = make_storage(object_parameters={**params, "ChecksumAlgorithm": "SHA256"})
    storage.save("summed.txt", ContentFile(b"summed"))
    sent = []
    storage._client().meta.events.register(
        "before-send.s3", lambda request, **kw: sent.append((request.method, {
            k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})))
    assert storage.size("summed.txt") == 6 and storage.open("summed.txt").read() == b"summed"
    reads = [headers for method, headers in sent if method in ("HEAD", "GET")]
    assert len(reads) == 2
    for headers in reads:
        assert headers.get("x-amz-checksum-mode") == "ENABLED"
        assert headers.get("x-amz-request-payer") == "requester"
