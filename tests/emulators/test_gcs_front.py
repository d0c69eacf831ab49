"""The GCS emulator's front answers what fake-gcs-server gets wrong (emulators/gcs_front.py),
with the raw google-cloud-storage client: resumable status queries, customer-supplied keys."""

from __future__ import annotations

import os

import pytest
from google.api_core import exceptions

from emulators.gcs_front import GCSFront

KEY, OTHER = os.urandom(32), os.urandom(32)


@pytest.fixture
def bucket(gcs_emulator):
    if not isinstance(gcs_emulator.front, GCSFront):
        pytest.skip("only the in-process GCS emulator has this front")
    client = gcs_emulator.client()
    return client, client.bucket(gcs_emulator.new_namespace()["bucket_name"])


def test_a_status_query_does_not_finalise_the_session(bucket):
    client, bucket = bucket
    session = bucket.blob("r.bin").create_resumable_upload_session(client=client)
    http = client._http
    assert http.request("PUT", session, data=b"", headers={"Content-Range": "bytes */*"}).status_code == 308
    chunk = http.request("PUT", session, data=b"x" * 262144, headers={"Content-Range": "bytes 0-262143/*"})
    assert chunk.status_code == 308
    status = http.request("PUT", session, data=b"", headers={"Content-Range": "bytes */*"})
    assert status.status_code == 308 and status.headers["Range"] == "bytes=0-262143"
    assert bucket.get_blob("r.bin") is None  # not made from a query
    last = http.request("PUT", session, data=b"y", headers={"Content-Range": "bytes 262144-262144/262145"})
    assert last.status_code == 200
    done = http.request("PUT", session, data=b"", headers={"Content-Range": "bytes */*"})
    assert done.status_code == 200 and done.json()["name"] == "r.bin"
    assert bucket.get_blob("r.bin").size == 262145


def test_customer_keyed_objects_need_their_key(bucket):
    client, bucket = bucket
    bucket.blob("k.bin", encryption_key=KEY).upload_from_string(b"secret")
    assert bucket.blob("k.bin", encryption_key=KEY).download_as_bytes() == b"secret"
    with pytest.raises(exceptions.BadRequest, match="is encrypted"):
        bucket.blob("k.bin").download_as_bytes()
    with pytest.raises(exceptions.BadRequest, match="incorrect"):
        bucket.blob("k.bin", encryption_key=OTHER).download_as_bytes()
    assert bucket.get_blob("k.bin").size == 6  # metadata needs no key
    bucket.blob("p.bin").upload_from_string(b"plain")
    with pytest.raises(exceptions.BadRequest, match="not encrypted"):
        bucket.blob("p.bin", encryption_key=KEY).download_as_bytes()
    bucket.delete_blob("k.bin")
    bucket.blob("k.bin").upload_from_string(b"now plain")
    assert bucket.blob("k.bin").download_as_bytes() == b"now plain"
