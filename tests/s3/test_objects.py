"""What S3Storage stores: ACLs, object parameters, encryption, overwriting, gzip, failures."""

from __future__ import annotations

import gzip
import io
import os

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from django.core.files.base import ContentFile, File
from django.test import override_settings

from storages.backends.s3 import S3Storage

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
PART = 5 * 1024 * 1024


def all_users_grants(raw, bucket, key):
    grants = raw.get_object_acl(Bucket=bucket, Key=key)["Grants"]
    return [g["Permission"] for g in grants if g["Grantee"].get("URI") == ALL_USERS]


def test_default_acl_is_none_so_objects_are_private(make_storage, raw):
    make_storage().save("private.txt", ContentFile(b"x"))
    assert all_users_grants(raw, make_storage.bucket, "private.txt") == []


def test_default_acl_public_read(make_storage, raw):
    make_storage(default_acl="public-read").save("kwarg.txt", ContentFile(b"x"))
    with override_settings(AWS_DEFAULT_ACL="public-read"):
        make_storage().save("setting.txt", ContentFile(b"x"))
    for key in ("kwarg.txt", "setting.txt"):
        assert all_users_grants(raw, make_storage.bucket, key) == ["READ"]


def test_acl_in_object_parameters_wins_over_default_acl(make_storage, raw):
    storage = make_storage(default_acl="public-read", object_parameters={"ACL": "private"})
    storage.save("p.txt", ContentFile(b"x"))
    make_storage(object_parameters={"ACL": "public-read"}).save("q.txt", ContentFile(b"x"))
    assert all_users_grants(raw, make_storage.bucket, "p.txt") == []
    assert all_users_grants(raw, make_storage.bucket, "q.txt") == ["READ"]


def test_object_parameters_setting(make_storage, raw):
    with override_settings(AWS_S3_OBJECT_PARAMETERS={"CacheControl": "max-age=86400",
                                                     "ContentDisposition": "inline", "Metadata": {"k": "v"}}):
        make_storage().save("cached.txt", ContentFile(b"x"))
    head = raw.head_object(Bucket=make_storage.bucket, Key="cached.txt")
    assert head["CacheControl"] == "max-age=86400"
    assert head["ContentDisposition"] == "inline" and head["Metadata"] == {"k": "v"}
    assert head["ContentType"] == "text/plain"  # still guessed from the name
    make_storage().save("plain.txt", ContentFile(b"x"))
    assert "CacheControl" not in raw.head_object(Bucket=make_storage.bucket, Key="plain.txt")


def test_get_object_parameters_hook_varies_per_name(make_storage, raw):
    seen = []

    class PerName(S3Storage):
        def get_object_parameters(self, name):
            seen.append(name)
            params = super().get_object_parameters(name)
            params["CacheControl"] = "max-age=31536000" if name.endswith(".css") else "no-cache"
            return params

    storage = make_storage(PerName, location="assets", object_parameters={"ContentLanguage": "en"})
    storage.save("site.css", ContentFile(b"a{}"))
    storage.save("data/page.html", ContentFile(b"<p>"))
    with storage.open("streamed.css", "wb") as f:  # the open(..., "wb") path asks the hook too
        f.write(b"b{}")
    assert seen == ["site.css", "data/page.html", "streamed.css"]  # names relative to AWS_LOCATION
    heads = {k: raw.head_object(Bucket=make_storage.bucket, Key=f"assets/{k}")
             for k in ("site.css", "data/page.html", "streamed.css")}
    assert heads["site.css"]["CacheControl"] == "max-age=31536000"
    assert heads["streamed.css"]["CacheControl"] == "max-age=31536000"
    assert heads["data/page.html"]["CacheControl"] == "no-cache"
    assert all(h["ContentLanguage"] == "en" for h in heads.values())


def test_encryption(make_storage, raw):
    make_storage(encryption=True).save("secret.txt", ContentFile(b"x"))
    with override_settings(AWS_S3_ENCRYPTION=True):
        make_storage().save("setting.txt", ContentFile(b"x" * (PART + 1)))  # multipart too
    make_storage().save("plain.txt", ContentFile(b"x"))
    for key in ("secret.txt", "setting.txt"):
        assert raw.head_object(Bucket=make_storage.bucket, Key=key)["ServerSideEncryption"] == "AES256"
    assert "ServerSideEncryption" not in raw.head_object(Bucket=make_storage.bucket, Key="plain.txt")


def test_file_overwrite_default_true_replaces(make_storage, raw):
    storage = make_storage()
    assert storage.file_overwrite is True
    assert storage.save("same.txt", ContentFile(b"first")) == "same.txt"
    assert storage.save("same.txt", ContentFile(b"second")) == "same.txt"
    assert storage.open("same.txt").read() == b"second"
    assert [o["Key"] for o in raw.list_objects_v2(Bucket=make_storage.bucket)["Contents"]] == ["same.txt"]


def test_file_overwrite_false_keeps_both(make_storage):
    with override_settings(AWS_S3_FILE_OVERWRITE=False):
        storage = make_storage()
        first = storage.save("same.txt", ContentFile(b"first"))
        second = storage.save("same.txt", ContentFile(b"second"))
    assert first == "same.txt" and second != first and second.startswith("same_")
    assert storage.open(first).read() == b"first" and storage.open(second).read() == b"second"


def test_file_overwrite_false_concurrent_saves_never_overwrite(make_storage):
    from concurrent.futures import ThreadPoolExecutor

    storage = make_storage(file_overwrite=False)
    payloads = [f"writer {i}".encode() for i in range(8)]
    barrier = __import__("threading").Barrier(len(payloads))

    def save(data):
        barrier.wait()
        return storage.save("race.txt", ContentFile(data)), data

    with ThreadPoolExecutor(len(payloads)) as pool:
        results = list(pool.map(save, payloads))
    names = [name for name, _ in results]
    assert len(set(names)) == len(payloads) and "race.txt" in names
    for name, data in results:
        assert storage.open(name).read() == data


# -- multipart checksums ---------------------------------------------------------------------


def test_multipart_checksum_algorithm_from_object_parameters(make_storage, raw):
    storage = make_storage(transfer_config=TransferConfig(multipart_chunksize=PART),
                           object_parameters={"ChecksumAlgorithm": "SHA256"})
    storage.save("sha.bin", ContentFile(os.urandom(PART + 1000)))
    head = raw.head_object(Bucket=make_storage.bucket, Key="sha.bin", ChecksumMode="ENABLED")
    assert "ChecksumSHA256" in head and "ChecksumCRC32" not in head


# -- gzip ------------------------------------------------------------------------------------

CSS = b"body { color: red; margin: 0 auto; }\n" * 2000


def test_gzip_css_is_stored_compressed_and_read_back_transparently(make_storage, raw):
    with override_settings(AWS_IS_GZIPPED=True):
        storage = make_storage()
        storage.save("css/site.css", ContentFile(CSS))
        head = raw.head_object(Bucket=make_storage.bucket, Key="css/site.css")
        assert head["ContentEncoding"] == "gzip" and head["ContentType"] == "text/css"
        assert head["ContentLength"] < len(CSS) // 10
        body = raw.get_object(Bucket=make_storage.bucket, Key="css/site.css")["Body"].read()
        assert gzip.decompress(body) == CSS
        with storage.open("css/site.css") as f:
            assert f.read(5) == CSS[:5]
            f.seek(1000)
            assert f.read(100) == CSS[1000:1100]
            f.seek(0)
            assert f.read() == CSS
        with storage.open("css/site.css", "r") as f:
            assert f.read() == CSS.decode()


def test_gzip_leaves_other_types_plain_and_honours_the_type_list(make_storage, raw):
    storage = make_storage(gzip=True)
    storage.save("notes.txt", ContentFile(CSS))
    storage.save("photo.png", ContentFile(b"\x89PNG" + CSS))
    for key in ("notes.txt", "photo.png"):
        head = raw.head_object(Bucket=make_storage.bucket, Key=key)
        assert "ContentEncoding" not in head and head["ContentLength"] >= len(CSS)
    with override_settings(GZIP_CONTENT_TYPES=("text/plain",)):
        storage.save("notes.txt", ContentFile(CSS))
        storage.save("again.css", ContentFile(CSS))
    assert raw.head_object(Bucket=make_storage.bucket, Key="notes.txt")["ContentEncoding"] == "gzip"
    assert "ContentEncoding" not in raw.head_object(Bucket=make_storage.bucket, Key="again.css")
    assert storage.open("notes.txt").read() == CSS
    make_storage().save("off.css", ContentFile(CSS))  # AWS_IS_GZIPPED defaults to off
    assert "ContentEncoding" not in raw.head_object(Bucket=make_storage.bucket, Key="off.css")


class CountingStream(io.RawIOBase):
    """``size`` incompressible bytes, generated as they are read; remembers how far
    reading had got when the proxy first saw an UploadPart request."""

    def __init__(self, size, proxy):
        self.size = size
        self.position = 0
        self.proxy = proxy
        self.read_when_first_part_arrived = None
        self.digest = __import__("hashlib").sha256()

    def readable(self):
        return True

    def readinto(self, buffer):
        if self.read_when_first_part_arrived is None and any(
                "partNumber=" in path for _, path in self.proxy.requests):
            self.read_when_first_part_arrived = self.position
        n = min(len(buffer), self.size - self.position)
        data = os.urandom(n)
        buffer[:n] = data
        self.digest.update(data)
        self.position += n
        return n


def test_gzip_multipart_streams_part_by_part_and_round_trips(proxied, proxy, raw):
    import hashlib

    size = 4 * PART + 12345  # incompressible, so it stays > 4 parts once gzipped
    transfer = TransferConfig(multipart_chunksize=PART, multipart_threshold=PART, max_concurrency=1)
    storage = proxied(gzip=True, transfer_config=transfer)
    source = CountingStream(size, proxy)
    with proxy.counting() as counter:
        storage.save("big.css", File(io.BufferedReader(source, PART), name="big.css"))
    parts = [p for m, p in counter.requests if m == "PUT" and "partNumber=" in p]
    assert len(parts) >= 4
    # The first part left while most of the file was still unread: nothing buffers the whole file.
    assert source.read_when_first_part_arrived is not None
    assert source.read_when_first_part_arrived <= 3 * PART < size
    head = raw.head_object(Bucket=proxied.bucket, Key="big.css")
    assert head["ContentEncoding"] == "gzip"
    decompressor = __import__("zlib").decompressobj(31)
    digest = hashlib.sha256()
    for chunk in raw.get_object(Bucket=proxied.bucket, Key="big.css")["Body"].iter_chunks(1 << 20):
        digest.update(decompressor.decompress(chunk))
    assert digest.digest() == source.digest.digest()
    read_back = hashlib.sha256()
    with storage.open("big.css") as f:
        while chunk := f.read(1 << 20):
            read_back.update(chunk)
    assert read_back.digest() == source.digest.digest()


# -- failures ----------------------------------------------------------------------------------


def test_failed_complete_multipart_leaves_no_object_and_no_open_upload(proxied, proxy, raw):
    storage = proxied(transfer_config=TransferConfig(multipart_chunksize=PART, multipart_threshold=PART),
                      client_config=Config(retries={"max_attempts": 2}))
    fault = proxy.inject(method="POST", path_contains="uploadId", times=10, status=500)
    with pytest.raises(Exception, match="CompleteMultipartUpload"):
        storage.save("big.bin", ContentFile(os.urandom(PART + 1000)))
    assert fault.fired >= 1
    assert any(m == "DELETE" and "uploadId=" in p for m, p in proxy.requests)  # aborted
    assert not storage.exists("big.bin")
    assert "Contents" not in raw.list_objects_v2(Bucket=proxied.bucket)
    assert raw.list_multipart_uploads(Bucket=proxied.bucket).get("Uploads", []) == []
    proxy.clear_faults()
    storage.save("big.bin", ContentFile(b"y" * (PART + 1000)))  # and a retry works
    assert storage.size("big.bin") == PART + 1000


def test_failed_part_upload_aborts_too(proxied, proxy, raw):
    storage = proxied(transfer_config=TransferConfig(multipart_chunksize=PART, multipart_threshold=PART,
                                                     max_concurrency=2),
                      client_config=Config(retries={"max_attempts": 1}))
    proxy.inject(method="PUT", path_contains="partNumber=2", times=10, status=500)
    with pytest.raises(Exception, match="UploadPart"):
        storage.save("parts.bin", ContentFile(bytes(3 * PART)))
    assert not storage.exists("parts.bin")
    assert raw.list_multipart_uploads(Bucket=proxied.bucket).get("Uploads", []) == []


def test_cut_read_resumes_or_fails_loudly_instead_of_truncating(proxied, proxy):
    storage = proxied()
    data = os.urandom(200_000)
    storage.save("cut.bin", ContentFile(data))
    proxy.inject(method="GET", cut_after=1000)
    with storage.open("cut.bin") as f:
        assert f.read() == data  # the rest re-requested from byte 1000
    proxy.inject(method="GET", cut_after=1000, times=1 + storage.read_resumes)  # every attempt cut
    with pytest.raises(ConnectionError) as info:
        with storage.open("cut.bin") as f:
            f.read()
    assert proxy.endpoint in str(info.value) and "cut.bin" in str(info.value)
    with storage.open("cut.bin") as f:  # the next read is whole
        assert f.read() == data
