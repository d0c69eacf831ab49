"""Transient GCS errors on the requests the storage sends itself are retried (issue 15):
resumable-upload chunks resume at the offset the session holds, a download's request is
retried, and a download cut mid-body resumes at the offset delivered (the shared reader's
resume, through the storage's retried request). Faults come from the emulator's fault layer
(``storage_faults``)."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.files.base import ContentFile

from storages.backends.gcloud.retry import ATTEMPTS
from storages.core import ServiceUnavailable
from storages.core.errors import ObjectChanged

PART = 256 * 1024
DATA = os.urandom(3 * PART + 1000)  # three chunks and a tail: a resumable session


@pytest.fixture
def storage(make_storage, quick_retries):
    return make_storage(blob_chunk_size=PART)


def _stored(raw_bucket, name):
    return raw_bucket.get_blob(name).download_as_bytes()


@pytest.mark.parametrize("fault", [
    {"status": 503},  # the service never saw the chunk
    {"status": 429},
    {"reset_after": 0},  # the service took the chunk; its answer was lost
    {"reset_before": 100_000},  # the connection dropped mid-chunk
], ids=["503", "429", "answer-lost", "cut-mid-chunk"])
def test_a_failed_chunk_resumes_where_the_session_is(storage, raw_bucket, storage_faults, storage_requests,
                                                     fault):
    storage_faults.add("upload_part", service="gcs", skip=1, **fault)  # the second chunk
    storage.save("big.bin", ContentFile(DATA))
    assert [hit.operation for hit in storage_faults.fired] == ["upload_part"]
    assert _stored(raw_bucket, "big.bin") == DATA
    assert storage_requests.count("upload_status") == 1  # asked the session what it holds
    assert storage.open("big.bin").read() == DATA


def test_a_lost_answer_to_the_last_chunk_is_a_finished_upload(storage, raw_bucket, storage_faults,
                                                              storage_requests):
    storage_faults.add("complete_multipart", service="gcs", reset_after=0)
    storage.save("done.bin", ContentFile(DATA))
    assert storage_faults.fired and _stored(raw_bucket, "done.bin") == DATA
    assert storage_requests.filter("upload_status")[0].status == 200  # the object was made


def test_chunks_that_keep_failing_fail_the_save_and_leave_nothing(storage, raw_bucket, storage_faults):
    storage_faults.add("upload_part", service="gcs", status=503, times=ATTEMPTS)
    with pytest.raises(ServiceUnavailable, match="503"):
        storage.save("never.bin", ContentFile(DATA))
    assert len(storage_faults.fired) == ATTEMPTS
    assert raw_bucket.get_blob("never.bin") is None


@pytest.mark.parametrize("fault", [{"status": 503}, {"reset_before": 0}], ids=["503", "reset"])
def test_a_download_that_fails_to_open_is_retried(storage, storage_faults, fault):
    storage.save("small.txt", ContentFile(b"small"))
    storage_faults.add("get", service="gcs", **fault)
    assert storage.open("small.txt").read() == b"small"
    assert len(storage_faults.fired) == 1


def test_a_download_cut_mid_body_resumes_at_the_offset_delivered(storage, storage_faults, storage_requests):
    storage.save("big.bin", ContentFile(DATA))
    storage_requests.clear()
    storage_faults.add("get", service="gcs", cut=PART + 7)
    storage_faults.add("get", service="gcs", reset_after=5000)
    with storage.open("big.bin") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(DATA).digest()
    gets = storage_requests.filter("get")
    assert len(gets) == 3 and [hit.kind for hit in storage_faults.fired] == ["cut", "reset_after"]
    rest = len(DATA) - (PART + 7)  # after the cut
    assert gets[1].fault == "reset_after" and gets[1].bytes_out == 5000
    assert rest - 5000 <= gets[2].bytes_out <= rest  # each resumed at the offset delivered


@pytest.mark.parametrize("replacement", [b"a new generation", DATA[::-1]], ids=["shorter", "same-size"])
def test_a_download_is_not_stitched_to_a_replaced_object(storage, raw_bucket, storage_faults, replacement):
    storage.save("v.bin", ContentFile(DATA))
    storage_faults.add("get", service="gcs", cut=1000)
    with storage.open("v.bin") as f:  # the response has begun; its body is cut at byte 1000
        raw_bucket.blob("v.bin").upload_from_string(replacement)
        with pytest.raises(ObjectChanged):
            f.read()
