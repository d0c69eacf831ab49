"""The S3 and GCS emulators refuse uploads whose bytes do not match the digest they carry, and
GCS resumable uploads whose ifGenerationMatch does not hold, as the services do
(emulators/integrity.py): seen through each service's own SDK and raw HTTP."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import threading
import zlib
from urllib.parse import quote, urlsplit

import google_crc32c
import pytest

DATA = os.urandom(300 * 1024)


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


# -- S3 ------------------------------------------------------------------------------------------

@pytest.fixture
def s3(s3_emulator):
    client = s3_emulator.client()
    bucket = s3_emulator.new_namespace()["bucket_name"]
    direct = s3_emulator.client(direct=True)

    def stored(key):
        return [o["Key"] for o in direct.list_objects_v2(Bucket=bucket).get("Contents", ())].count(key) == 1

    return client, bucket, stored


def test_s3_refuses_a_wrong_content_md5_and_stores_nothing(s3):
    from botocore.exceptions import ClientError

    client, bucket, stored = s3
    with pytest.raises(ClientError) as info:
        client.put_object(Bucket=bucket, Key="md5", Body=DATA, ContentMD5=b64(hashlib.md5(b"other").digest()))
    assert info.value.response["Error"]["Code"] == "BadDigest"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert not stored("md5")
    client.put_object(Bucket=bucket, Key="md5", Body=DATA, ContentMD5=b64(hashlib.md5(DATA).digest()))
    assert stored("md5")


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_s3_refuses_a_wrong_flexible_checksum(s3, algorithm):
    from botocore.exceptions import ClientError

    client, bucket, stored = s3
    wrong = {"CRC32": b"\0" * 4, "CRC32C": b"\0" * 4, "SHA1": b"\0" * 20, "SHA256": b"\0" * 32}[algorithm]
    with pytest.raises(ClientError) as info:
        client.put_object(Bucket=bucket, Key="sum", Body=DATA, **{f"Checksum{algorithm}": b64(wrong)})
    assert info.value.response["Error"]["Code"] == "BadDigest"
    assert not stored("sum")


def test_s3_refuses_an_upload_damaged_in_transit(s3, storage_faults):
    """boto3 sends a CRC32 of every body by default; a byte flipped on the way is refused."""
    from botocore.exceptions import ClientError

    client, bucket, stored = s3
    storage_faults.add("put", corrupt=5000, service="s3")
    with pytest.raises(ClientError) as info:
        client.put_object(Bucket=bucket, Key="damaged", Body=DATA)
    assert info.value.response["Error"]["Code"] == "BadDigest"
    assert not stored("damaged")
    assert [hit.kind for hit in storage_faults.fired] == ["corrupt"]
    upload = client.create_multipart_upload(Bucket=bucket, Key="parts")["UploadId"]
    storage_faults.add("upload_part", corrupt=1, service="s3")
    with pytest.raises(ClientError, match="BadDigest"):
        client.upload_part(Bucket=bucket, Key="parts", UploadId=upload, PartNumber=1, Body=DATA)
    client.abort_multipart_upload(Bucket=bucket, Key="parts", UploadId=upload)


def test_s3_without_a_digest_stores_what_arrives(s3, storage_faults):
    """No header, no check (S3 too): the damaged byte is stored, which is why clients send one."""
    client, bucket, stored = s3
    url = client.generate_presigned_url("put_object", {"Bucket": bucket, "Key": "plain"})
    storage_faults.add("put", corrupt=10, service="s3")
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("PUT", f"{parts.path}?{parts.query}", body=DATA)
    assert conn.getresponse().status == 200
    conn.close()
    body = client.get_object(Bucket=bucket, Key="plain")["Body"].read()
    assert [i for i in range(len(DATA)) if body[i] != DATA[i]] == [10]


# -- GCS -----------------------------------------------------------------------------------------

class GCS:
    """Raw JSON-API calls to the GCS emulator through its front."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.bucket = emulator.new_namespace()["bucket_name"]

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection(self.emulator.host, self.emulator.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def multipart(self, name, data, **metadata):
        boundary = "==boundary=="
        body = (f"--{boundary}\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n"
                f"{json.dumps({'name': name, **metadata})}\r\n--{boundary}\r\n"
                "content-type: application/octet-stream\r\n\r\n").encode() + data \
            + f"\r\n--{boundary}--\r\n".encode()
        return self.request("POST", f"/upload/storage/v1/b/{self.bucket}/o?uploadType=multipart", body,
                            {"Content-Type": f'multipart/related; boundary="{boundary}"'})

    def session(self, name, **query):
        extra = "".join(f"&{k}={v}" for k, v in query.items())
        status, headers, _ = self.request(
            "POST", f"/upload/storage/v1/b/{self.bucket}/o?uploadType=resumable&name={quote(name)}{extra}",
            json.dumps({"name": name}), {"Content-Type": "application/json"})
        assert status == 200
        location = urlsplit(headers["Location"])
        return f"{location.path}?{location.query}"

    def chunk(self, session, data, start, total=None, **headers):
        end = f"{start + len(data) - 1}" if data else ""
        content_range = f"bytes {start}-{end}/{total or '*'}" if data else f"bytes */{total}"
        return self.request("PUT", session, data, {"Content-Range": content_range, **headers})

    def stored(self, name):
        return self.emulator.generation(self.bucket, name)


@pytest.fixture
def gcs(gcs_emulator):
    return GCS(gcs_emulator)


def crc32c(data):
    return b64(google_crc32c.Checksum(data).digest())


def test_gcs_checks_the_hashes_in_an_upload_metadata(gcs):
    status, _, body = gcs.multipart("bad-crc", DATA, crc32c=crc32c(b"other"))
    assert status == 400 and b"CRC32C" in body and not gcs.stored("bad-crc")
    status, _, body = gcs.multipart("bad-md5", DATA, md5Hash=b64(hashlib.md5(b"other").digest()))
    assert status == 400 and b"MD5" in body and not gcs.stored("bad-md5")
    status, _, _ = gcs.multipart("good", DATA, crc32c=crc32c(DATA), md5Hash=b64(hashlib.md5(DATA).digest()))
    assert status == 200 and gcs.stored("good")


def test_gcs_checks_a_resumable_upload_against_its_last_request_hash(gcs):
    half = 256 * 1024
    session = gcs.session("resumable")
    assert gcs.chunk(session, DATA[:half], 0)[0] == 308
    wrong = {"X-Goog-Hash": f"crc32c={crc32c(b'x')}"}
    status, _, body = gcs.chunk(session, DATA[half:], half, len(DATA), **wrong)
    assert status == 400 and b"CRC32C" in body and not gcs.stored("resumable")
    session = gcs.session("resumable")
    assert gcs.chunk(session, DATA[:half], 0)[0] == 308
    hashes = f"crc32c={crc32c(DATA)},md5={b64(hashlib.md5(DATA).digest())}"
    assert gcs.chunk(session, DATA[half:], half, len(DATA), **{"X-Goog-Hash": hashes})[0] == 200


def test_gcs_sees_a_chunk_damaged_in_transit(gcs, storage_faults):
    half = 256 * 1024
    session = gcs.session("damaged")
    storage_faults.add("upload_part", corrupt=100, service="gcs")
    assert gcs.chunk(session, DATA[:half], 0)[0] == 308  # GCS checks no chunk, only the whole
    right = {"X-Goog-Hash": f"crc32c={crc32c(DATA)}"}
    status, _, _ = gcs.chunk(session, DATA[half:], half, len(DATA), **right)
    assert status == 400 and not gcs.stored("damaged")


def test_gcs_resumable_uploads_honour_if_generation_match(gcs):
    assert gcs.multipart("taken", b"first")[0] == 200
    generation = gcs.stored("taken")
    session = gcs.session("taken", ifGenerationMatch=0)  # create only: refused at the end
    status, _, body = gcs.chunk(session, DATA, 0, len(DATA))
    assert status == 412 and json.loads(body)["error"]["errors"][0]["reason"] == "conditionNotMet"
    assert gcs.stored("taken") == generation
    session = gcs.session("taken", ifGenerationMatch=generation)  # replace this generation only
    assert gcs.chunk(session, DATA, 0, len(DATA))[0] == 200
    assert gcs.stored("taken") != generation
    session = gcs.session("fresh", ifGenerationMatch=0)
    assert gcs.chunk(session, b"", 0, 0)[0] == 200 and gcs.stored("fresh")


def test_gcs_two_create_only_resumable_uploads_of_one_name_one_wins(gcs):
    sessions = [gcs.session("race", ifGenerationMatch=0) for _ in range(6)]
    statuses = []

    def finish(session):
        statuses.append(gcs.chunk(session, DATA, 0, len(DATA))[0])

    threads = [threading.Thread(target=finish, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [412] * 5


def test_the_gcs_sdk_reads_the_refusals(gcs_emulator, storage_faults):
    from google.api_core.exceptions import BadRequest, PreconditionFailed

    bucket = gcs_emulator.client().bucket(gcs_emulator.new_namespace()["bucket_name"])
    storage_faults.add("put", corrupt=5000, service="gcs")  # in the media, past the metadata
    with pytest.raises(BadRequest, match="CRC32C"):  # the SDK puts the CRC32C in the metadata
        bucket.blob("k").upload_from_string(DATA)
    bucket.blob("k").upload_from_string(b"x")
    blob = bucket.blob("k", chunk_size=256 * 1024)
    with pytest.raises(PreconditionFailed):
        blob.upload_from_string(DATA, if_generation_match=0)  # resumable: DATA is over one chunk
    assert bucket.get_blob("k").download_as_bytes() == b"x"


def test_crc32_helper_matches_zlib():
    assert base64.b64decode(b64(zlib.crc32(DATA).to_bytes(4, "big"))) == zlib.crc32(DATA).to_bytes(4, "big")
