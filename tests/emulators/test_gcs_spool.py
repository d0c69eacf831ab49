"""The GCS emulator's front keeps a resumable session's chunks until the last one
(emulators/gcs_spool.py) and answers them as GCS does, with the raw google-cloud-storage
client's session: the object holds exactly the bytes sent, whatever the chunks repeat."""

from __future__ import annotations

import os

import pytest
import requests

from emulators.gcs_front import GCSFront
from emulators.http_wire import content_range

DATA = os.urandom(3 * 262144 + 11)
K = 262144


@pytest.fixture
def session(gcs_emulator):
    if not isinstance(gcs_emulator.front, GCSFront):
        pytest.skip("only the in-process GCS emulator has this front")
    client = gcs_emulator.client()
    bucket = client.bucket(gcs_emulator.new_namespace()["bucket_name"])
    url = bucket.blob("spooled.bin").create_resumable_upload_session(client=client)

    def put(start: int, end: int | None, total: str = "*", data: bytes | None = None):
        body = DATA[start:end + 1] if data is None and end is not None else (data or b"")
        span = f"{start}-{end}" if end is not None else "*"
        return client._http.request("PUT", url, data=body, headers={"Content-Range": f"bytes {span}/{total}"})

    def held() -> str | None:
        answer = client._http.request("PUT", url, data=b"", headers={"Content-Range": "bytes */*"})
        assert answer.status_code == 308
        return answer.headers.get("Range")

    put.upload_id = url.split("upload_id=", 1)[1].split("&", 1)[0]  # type: ignore[attr-defined]
    return put, held, bucket, gcs_emulator.front


def test_chunks_are_answered_as_gcs_does_and_stored_once(session):
    put, held, bucket, _ = session
    first = put(0, K - 1)
    assert (first.status_code, first.headers.get("Range")) == (308, f"bytes=0-{K - 1}")
    assert held() == f"bytes=0-{K - 1}" and bucket.get_blob("spooled.bin") is None
    again = put(K // 2, 2 * K - 1)  # repeats half of what the session holds: only the rest is added
    assert (again.status_code, again.headers.get("Range")) == (308, f"bytes=0-{2 * K - 1}")
    beyond = put(3 * K, len(DATA) - 1, str(len(DATA)))  # starts past what is held: nothing added
    assert (beyond.status_code, beyond.headers.get("Range")) == (308, f"bytes=0-{2 * K - 1}")
    assert put(2 * K, 3 * K - 1).status_code == 308
    last = put(3 * K, len(DATA) - 1, str(len(DATA)))
    assert last.status_code == 200 and last.json()["size"] == str(len(DATA))
    assert bucket.blob("spooled.bin").download_as_bytes() == DATA


def test_a_chunk_cut_short_adds_nothing(session, storage_faults):
    put, held, bucket, _ = session
    assert put(0, K - 1).status_code == 308
    storage_faults.add("upload_part", service="gcs", reset_before=1000)
    with pytest.raises(requests.exceptions.ConnectionError):
        put(K, 2 * K - 1)
    assert [hit.kind for hit in storage_faults.fired] == ["reset_before"]
    assert held() == f"bytes=0-{K - 1}"
    assert put(K, len(DATA) - 1, str(len(DATA))).status_code == 200
    assert bucket.blob("spooled.bin").download_as_bytes() == DATA


def test_the_last_chunk_can_be_a_status_with_the_total(session):
    put, held, bucket, front = session
    assert put(0, len(DATA) - 1).status_code == 308
    assert put(0, None, str(len(DATA))).status_code == 200  # "bytes */N": the kept bytes are the object
    assert bucket.blob("spooled.bin").download_as_bytes() == DATA
    assert put.upload_id not in front._spools._spools  # a finished session's file is gone


def test_a_cancelled_session_leaves_nothing(session, gcs_emulator):
    put, _, bucket, front = session
    assert put(0, K - 1).status_code == 308
    upload_id = put.upload_id
    assert front._spools._spools[upload_id] is not None  # kept in the front, not sent on
    client = gcs_emulator.client()
    url = (f"{gcs_emulator.endpoint}/upload/storage/v1/b/{bucket.name}/o"
           f"?uploadType=resumable&upload_id={upload_id}")
    client._http.request("DELETE", url)
    assert upload_id not in front._spools._spools and bucket.get_blob("spooled.bin") is None


@pytest.mark.parametrize("value, parsed", [
    ("bytes 0-9/100", (0, 9, 100)), ("bytes 10-19/*", (10, 19, None)), ("bytes */100", (None, None, 100)),
    ("bytes */*", (None, None, None)), ("bytes 1-2", None), ("items 0-1/2", None), ("", None)])
def test_content_range(value, parsed):
    assert content_range(value) == parsed


def test_only_the_newest_sessions_are_remembered(monkeypatch):
    from emulators.gcs_spool import Spools

    spools = Spools()
    monkeypatch.setattr(spools, "LIMIT", 2)
    for upload_id in ("a", "b", "c"):
        spools.begin(upload_id)
    assert list(spools._spools) == ["b", "c"]
    spools.close()
