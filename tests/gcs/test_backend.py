"""GoogleCloudStorage against fake-gcs-server: requests, uploads, gzip, parameters, errors."""

import gzip
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File

from storages.backends.gcloud.retry import ATTEMPTS
from storages.core import ServiceUnavailable
from storages.core.compress import COMPRESSED_MARK
from tests.support import FailingSource

KIB = 1024
PART = 256 * KIB  # the smallest part GCS accepts: keeps multipart tests small


def _methods(requests):
    return [method for method, _ in requests]


# -- few requests ----------------------------------------------------------------

def test_request_counts(proxied, proxy):
    storage = proxied()
    with proxy.counting() as save:
        storage.save("one.txt", ContentFile(b"hello"))
    with proxy.counting() as read:
        with storage.open("one.txt") as f:
            assert f.read() == b"hello"
    with proxy.counting() as exists:
        assert storage.exists("one.txt")
    with proxy.counting() as size:
        assert storage.size("one.txt") == 5
    with proxy.counting() as url:
        storage.url("one.txt")
    with proxy.counting() as delete:
        storage.delete("one.txt")
    assert _methods(save.requests) == ["POST"] and "uploadType=multipart" in save.requests[0][1]
    assert _methods(read.requests) == ["GET"] and "alt=media" in read.requests[0][1]
    assert exists.count == 1 and size.count == 1 and delete.count == 1
    assert url.count == 0


def test_create_only_small_save_sends_the_precondition(proxied, proxy):
    storage = proxied(file_overwrite=False)
    with proxy.counting() as save:
        assert storage.save("p.txt", ContentFile(b"1")) == "p.txt"
    assert save.count == 1 and "ifGenerationMatch=0" in save.requests[0][1]
    with proxy.counting() as again:
        second = storage.save("p.txt", ContentFile(b"2"))
    assert second != "p.txt"
    # the first attempt was refused by the service (412), the second took a new name
    assert _methods(again.requests).count("POST") == 2


# -- resumable uploads -------------------------------------------------------------

def test_large_file_goes_up_in_parts_and_appears_only_when_finalised(proxied, proxy, raw_bucket):
    storage = proxied(blob_chunk_size=PART)
    data = bytes(range(256)) * (PART * 3 // 256) + b"tail"
    with proxy.counting() as upload:
        with storage.open("big.bin", "wb") as f:
            for offset in range(0, len(data), 100 * KIB):
                f.write(data[offset:offset + 100 * KIB])
                if offset > PART:
                    assert raw_bucket.get_blob("big.bin") is None  # nothing visible mid-upload
    methods = _methods(upload.requests)
    assert methods[0] == "POST" and "uploadType=resumable" in upload.requests[0][1]
    assert methods.count("PUT") == 4  # three full parts, then the tail that finalises
    assert raw_bucket.get_blob("big.bin").download_as_bytes() == data
    with storage.open("big.bin") as f:
        f.seek(PART + 5)
        assert f.read(10) == data[PART + 5:PART + 15]


def test_exact_multiple_of_the_part_size_finalises_with_an_empty_request(make_storage, raw_bucket):
    storage = make_storage(blob_chunk_size=PART)
    data = b"x" * (2 * PART)
    storage.save("exact.bin", ContentFile(data))
    assert raw_bucket.get_blob("exact.bin").size == 2 * PART


def test_failed_part_cancels_the_session(proxied, proxy, raw_bucket):
    storage = proxied(blob_chunk_size=PART)
    proxy.inject(method="PUT", status=403, times=1)
    with pytest.raises(PermissionError):
        storage.save("denied.bin", ContentFile(b"d" * (PART + 10)))
    assert ("DELETE" in _methods(proxy.requests)), "the resumable session was not cancelled"
    assert raw_bucket.get_blob("denied.bin") is None


def test_abort_cancels_the_session(proxied, proxy, raw_bucket):
    storage = proxied(blob_chunk_size=PART)
    f = storage.open("aborted.bin", "wb")
    f.write(b"a" * (PART + 1))
    with proxy.counting() as abort:
        f.abort()
    assert _methods(abort.requests) == ["DELETE"]
    assert raw_bucket.get_blob("aborted.bin") is None
    assert storage.listdir("") == ([], [])


def test_create_only_large_save_never_replaces(proxied, proxy, raw_bucket):
    storage = proxied(blob_chunk_size=PART, file_overwrite=False)
    storage.save("large.bin", ContentFile(b"1" * (PART + 1)))
    with proxy.counting() as second:
        name = storage.save("large.bin", ContentFile(b"2" * (PART + 1)))
    assert name != "large.bin"
    sessions = [path for method, path in second.requests if method == "POST"]
    assert sessions and all("ifGenerationMatch=0" in path for path in sessions)
    assert raw_bucket.get_blob("large.bin").download_as_bytes() == b"1" * (PART + 1)
    assert raw_bucket.get_blob(name).download_as_bytes() == b"2" * (PART + 1)


def test_interleaved_create_only_uploads_keep_the_first(make_storage, raw_bucket):
    """Two create-only resumable uploads of one name, both open, finalised in turn."""
    from storages.core import RemoteFile

    storage = make_storage(blob_chunk_size=PART, file_overwrite=False)
    first = RemoteFile(storage, "both.bin", "wb", create_only=True)
    second = RemoteFile(storage, "both.bin", "wb", create_only=True)
    first.write(b"1" * (PART + 1))
    second.write(b"2" * (PART + 1))
    first.close()
    with pytest.raises(FileExistsError):
        second.close()
    assert raw_bucket.get_blob("both.bin").download_as_bytes() == b"1" * (PART + 1)
    assert storage.listdir("") == ([], ["both.bin"])


# -- gzip --------------------------------------------------------------------------

def test_gzip_compresses_listed_types_as_it_streams(make_storage, raw_bucket):
    storage = make_storage(gzip=True, blob_chunk_size=PART)
    css = b"".join(b"body .c%d { color: #%06x; }\n" % (i, i * 7919 % 0xFFFFFF) for i in range(40000))
    assert len(css) > 3 * PART
    storage.save("site.css", ContentFile(css))
    blob = raw_bucket.get_blob("site.css")
    assert blob.content_encoding == "gzip" and blob.content_type == "text/css"
    assert blob.size < len(css) // 2
    assert gzip.decompress(blob.download_as_bytes(raw_download=True)) == css
    with storage.open("site.css") as f:  # read back decoded
        assert f.read() == css
    storage.save("photo.bin", ContentFile(b"\x00" * 1000))
    assert raw_bucket.get_blob("photo.bin").content_encoding is None  # not a listed type


def test_gzip_objects_written_by_others_read_as_stored_unless_asked(make_storage, raw_bucket):
    original = b"already compressed " * 100
    stored = gzip.compress(original, mtime=0)
    blob = raw_bucket.blob("pre.txt.gz")
    blob.content_encoding = "gzip"
    blob.upload_from_string(stored, content_type="text/plain")
    storage = make_storage(gzip=True)
    assert storage.size("pre.txt.gz") == len(stored)
    with storage.open("pre.txt.gz") as f:
        assert f.read() == stored
        assert f.info.content_encoding == "gzip" and f.size == len(stored)
        f.seek(-8, 2)
        assert f.read() == stored[-8:]  # seeking from the end: the stored size is the size
    assert make_storage(decode_gzip=True).open("pre.txt.gz").read() == original  # GS_DECODE_GZIP


def test_what_it_compressed_is_marked_and_decoded_whatever_its_settings(make_storage, raw_bucket):
    css = b"a { b: c }\n" * 500
    make_storage(gzip=True, object_parameters={"metadata": {"owner": "web"}}).save("x.css", ContentFile(css))
    blob = raw_bucket.get_blob("x.css")
    assert blob.content_encoding == "gzip"
    assert blob.metadata == {"owner": "web", COMPRESSED_MARK[0]: COMPRESSED_MARK[1]}
    with make_storage().open("x.css") as f:  # compression off: the mark says how to read it
        assert f.read() == css
        f.seek(1000)
        assert f.read(11) == css[1000:1011]


# -- object parameters and metadata --------------------------------------------------

def test_object_parameters_become_blob_properties(make_storage, raw_bucket):
    storage = make_storage(object_parameters={
        "cache_control": "public, max-age=60", "metadata": {"owner": "tests"},
        "content_type": "application/x-custom", "content_disposition": "attachment",
    })
    storage.save("params.txt", ContentFile(b"p"))
    blob = raw_bucket.get_blob("params.txt")
    assert blob.cache_control == "public, max-age=60"
    assert blob.metadata == {"owner": "tests"}
    assert blob.content_type == "application/x-custom"
    assert blob.content_disposition == "attachment"


def test_content_type_is_guessed_from_the_name(gcs_storage, raw_bucket):
    gcs_storage.save("page.html", ContentFile(b"<p>"))
    assert raw_bucket.get_blob("page.html").content_type == "text/html"


def test_unknown_object_parameter_is_named(make_storage):
    storage = make_storage(object_parameters={"colour": "blue"})
    with pytest.raises(ImproperlyConfigured, match="GS_OBJECT_PARAMETERS.*colour"):
        storage.save("x.txt", ContentFile(b"x"))
    assert not storage.exists("x.txt")


def test_location_prefixes_every_key(make_storage, raw_bucket):
    storage = make_storage(location="media/uploads")
    storage.save("a/b.txt", ContentFile(b"b"))
    assert raw_bucket.get_blob("media/uploads/a/b.txt") is not None
    assert storage.listdir("") == (["a"], [])
    assert storage.listdir("a") == ([], ["b.txt"])


def test_modified_and_created_times(gcs_storage, raw_bucket):
    gcs_storage.save("t.txt", ContentFile(b"t"))
    blob = raw_bucket.get_blob("t.txt")
    assert gcs_storage.get_modified_time("t.txt") == blob.updated
    assert gcs_storage.get_created_time("t.txt") == blob.time_created
    assert abs(gcs_storage.get_created_time("t.txt") - datetime.now(timezone.utc)) < timedelta(minutes=2)
    with pytest.raises(NotImplementedError, match="access times"):
        gcs_storage.get_accessed_time("t.txt")


# -- buckets -------------------------------------------------------------------------

def test_auto_create_bucket(gcs_emulator):
    from emulators.base import unique_name
    from storages.backends.gcloud import GoogleCloudStorage

    name = unique_name("auto")
    storage = GoogleCloudStorage(**gcs_emulator.storage_options(bucket_name=name, auto_create_bucket=True,
                                                               auto_create_acl="project-private"))
    storage.save("first.txt", ContentFile(b"1"))
    assert gcs_emulator.client().bucket(name).get_blob("first.txt").size == 1
    # an existing bucket is fine too
    GoogleCloudStorage(**gcs_emulator.storage_options(bucket_name=name, auto_create_bucket=True)).exists("x")


def test_bad_auto_create_acl_is_named(gcs_emulator):
    from storages.backends.gcloud import GoogleCloudStorage

    storage = GoogleCloudStorage(**gcs_emulator.storage_options(
        bucket_name="never-made", auto_create_bucket=True, auto_create_acl="everyone-may-write"))
    with pytest.raises(ImproperlyConfigured, match="GS_AUTO_CREATE_ACL"):
        storage.exists("x")


@pytest.mark.parametrize("size", [10, PART + 10], ids=["small", "resumable"])
def test_missing_bucket_is_explained_on_save(gcs_emulator, size):
    from storages.backends.gcloud import GoogleCloudStorage

    storage = GoogleCloudStorage(**gcs_emulator.storage_options(bucket_name="no-such-bucket",
                                                               blob_chunk_size=PART))
    with pytest.raises(ImproperlyConfigured, match="GS_BUCKET_NAME.*GS_AUTO_CREATE_BUCKET"):
        storage.save("x.bin", ContentFile(b"x" * size))


# -- errors --------------------------------------------------------------------------

def test_unreachable_emulator_is_a_connection_error_naming_it(gcs_emulator):
    from emulators.base import free_port
    from storages.backends.gcloud import GoogleCloudStorage

    endpoint = f"http://127.0.0.1:{free_port()}"
    storage = GoogleCloudStorage(**gcs_emulator.storage_options(emulator_host=endpoint))
    with pytest.raises(ConnectionError, match=endpoint):
        storage.open("x.txt")


def test_server_errors_become_service_unavailable(proxied, proxy, quick_retries):
    storage = proxied()
    storage.save("s.txt", ContentFile(b"s"))
    proxy.inject(method="GET", path_contains="alt=media", status=503, times=ATTEMPTS)  # outlasts the retries
    with pytest.raises(ServiceUnavailable, match="503"):
        storage.open("s.txt")
    assert len(proxy.fired) == ATTEMPTS
    assert storage.open("s.txt").read() == b"s"


def test_connection_cut_mid_read_resumes_or_is_an_error_never_a_short_file(proxied, proxy):
    storage = proxied()
    data = b"0123456789" * 300_000
    storage.save("cut.bin", ContentFile(data))
    proxy.inject(method="GET", path_contains="alt=media", cut_after=100_000)
    with storage.open("cut.bin") as f:
        assert f.read() == data  # the rest re-requested from where the cut left it
    assert proxy.fired and proxy.fired[0][2] == "cut"
    proxy.inject(method="GET", path_contains="alt=media", cut_after=100_000, times=1 + storage.read_resumes)
    with pytest.raises(ConnectionError):
        with storage.open("cut.bin") as f:
            f.read()


def test_denied_is_a_permission_error(proxied, proxy):
    storage = proxied()
    proxy.inject(method="GET", status=403)
    with pytest.raises(PermissionError, match="GS_CREDENTIALS"):
        storage.exists("secret.txt")


def test_source_failure_mid_resumable_leaves_nothing(make_storage, raw_bucket):
    storage = make_storage(blob_chunk_size=PART)
    with pytest.raises(OSError, match="source failed"):
        storage.save("partial.bin", File(FailingSource(2 * PART + 1), name="partial.bin"))
    assert raw_bucket.get_blob("partial.bin") is None


def test_public_url_for_emulator_serves_bytes(make_storage):
    storage = make_storage(querystring_auth=False)
    storage.save("pub/ü x.txt", ContentFile(b"public"))
    url = storage.url("pub/ü x.txt")
    assert url.endswith(f"/{make_storage.bucket_name}/pub/%C3%BC%20x.txt") and "?" not in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"public"
