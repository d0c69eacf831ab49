"""LibCloudStorage: the seed's settings, provider types, messages, credentials, and what
each driver really does on failure — real libcloud drivers against the real emulators."""

import os
import pickle
import urllib.parse
import urllib.request
import warnings

import libcloud.security
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile, File
from django.test import override_settings
from libcloud.storage.types import Provider

from emulators.base import unique_name
from emulators.libcloud import LibcloudEmulator, azure_provider, local_provider, options_for, s3_provider
from emulators.proxy import CountingProxy
from storages.backends.apache_libcloud import LibCloudStorage
from storages.core import is_temp_name
from storages.core.streams import ChunkStream
from tests.support import FailingSource

ACCESS = "AKIDLIBCLOUDACCESS1"
SECRET = "libcloud-secret-Zq8x"


@pytest.fixture
def local(libcloud_emulator):
    return LibCloudStorage(**libcloud_emulator.new_namespace())


def seed_provider(s3, bucket, **extra):
    """The seed's LIBCLOUD_PROVIDERS entry (old constant, user/key), pointed at the S3 emulator."""
    return {"type": "libcloud.storage.types.Provider.S3_US_STANDARD_HOST", "user": ACCESS, "key": SECRET,
            "bucket": bucket, "host": s3.host, "port": s3.port, "secure": False, **extra}


# -- the seed's settings ---------------------------------------------------------

def test_seed_settings_and_create_container(s3_emulator):
    bucket = unique_name("bucket-")
    providers = {"amazon_1": seed_provider(s3_emulator, bucket),
                 "amazon_2": seed_provider(s3_emulator, bucket + "-2")}
    with override_settings(LIBCLOUD_PROVIDERS=providers, DEFAULT_LIBCLOUD_PROVIDER="amazon_1"):
        with pytest.warns(DeprecationWarning,
                          match="S3_US_STANDARD_HOST.*Provider.S3 with region 'us-east-1'"):
            store = LibCloudStorage("amazon_1")
        assert store.driver.region == "us-east-1"
        store.driver.create_container(bucket)  # the seed's example
        assert store.save("hello.txt", ContentFile(b"hi")) == "hello.txt"
        with pytest.warns(DeprecationWarning):
            default = LibCloudStorage()  # DEFAULT_LIBCLOUD_PROVIDER
        assert default.provider_name == "amazon_1" and default.open("hello.txt").read() == b"hi"
        with pytest.warns(DeprecationWarning):
            other = LibCloudStorage("amazon_2")
        missing = rf"'{bucket}-2' \(LIBCLOUD_PROVIDERS\['amazon_2'\]\['bucket'\]\) does not exist"
        for call in (other.exists, other.open):  # its bucket was never created
            with pytest.raises(ImproperlyConfigured, match=missing):
                call("hello.txt")


def test_provider_named_default_when_unset(libcloud_emulator):
    provider = libcloud_emulator.new_namespace()["providers"]["default"]
    with override_settings(LIBCLOUD_PROVIDERS={"default": provider}):
        store = LibCloudStorage()
        assert store.provider_name == "default"
        store.save("a.txt", ContentFile(b"a"))
        assert store.listdir("") == ([], ["a.txt"])


@pytest.mark.parametrize("kind", [Provider.LOCAL, "LOCAL", "libcloud.storage.types.Provider.LOCAL"])
def test_type_as_constant_attribute_or_dotted_path(libcloud_emulator, kind):
    options = libcloud_emulator.new_namespace()
    options["providers"]["default"]["type"] = kind
    del options["providers"]["default"]["ex_use_locking"]  # the driver's default: locking on
    store = LibCloudStorage(**options)
    store.save("d/x", ContentFile(b"x"))
    assert store.exists("d/x")
    store.delete("d/x")
    assert not store.exists("d/x") and store.listdir("") == ([], [])


def test_region_constants_and_options_pass_through(s3_emulator):
    with pytest.warns(DeprecationWarning, match="'eu-west-1'"):
        store = LibCloudStorage(**options_for({**seed_provider(s3_emulator, "b"),
                                               "type": "libcloud.storage.types.Provider.S3_EU_WEST_HOST"}))
    assert store.driver.region == "eu-west-1"
    connection = store.driver.connection
    assert (connection.host, connection.port) == (s3_emulator.host, s3_emulator.port)
    explicit = LibCloudStorage(**options_for({**s3_provider(s3_emulator, "b"), "region": "ap-south-1"}))
    assert explicit.driver.region == "ap-south-1"


# -- configuration errors ----------------------------------------------------------

def test_unknown_provider_name_type_and_missing_bucket(libcloud_emulator):
    provider = libcloud_emulator.new_namespace()["providers"]["default"]
    with pytest.raises(ImproperlyConfigured, match=r"LIBCLOUD_PROVIDERS\['nope'\] is not defined.*'default'"):
        LibCloudStorage("nope", providers={"default": provider})
    with override_settings(LIBCLOUD_PROVIDERS={}):
        with pytest.raises(ImproperlyConfigured, match="defined: none"):
            LibCloudStorage()
    with pytest.raises(ImproperlyConfigured,
                       match="Unknown libcloud provider type 'libcloud.storage.types.Provider.NOPE'"):
        LibCloudStorage(**options_for({**provider, "type": "libcloud.storage.types.Provider.NOPE"}))
    with pytest.raises(ImproperlyConfigured, match="needs a 'bucket'"):
        LibCloudStorage(**options_for({"type": "libcloud.storage.types.Provider.LOCAL", "key": "/tmp"}))


def test_driver_errors_name_the_type(tmp_path):
    store = LibCloudStorage(**options_for(local_provider(str(tmp_path / "missing"), "c")))
    with pytest.raises(ImproperlyConfigured,
                       match="Unable to create libcloud driver type libcloud.storage.types.Provider.LOCAL: "
                             "The base path is not a directory"):
        store.exists("x")


def test_ca_certificate_error_is_explained(s3_emulator, monkeypatch):
    monkeypatch.setattr(libcloud.security, "CA_CERTS_PATH", "/nonexistent/cacerts.pem")
    providers = {"amazon_1": {**seed_provider(s3_emulator, "bucket-1"), "secure": True}}
    with override_settings(LIBCLOUD_PROVIDERS=providers), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(ImproperlyConfigured) as info:
            LibCloudStorage("amazon_1")
    message = str(info.value)
    assert message.startswith("Unable to create libcloud driver type "
                              "libcloud.storage.types.Provider.S3_US_STANDARD_HOST: "
                              "No CA Certificates were found in CA_CERTS_PATH.")
    assert "/nonexistent/cacerts.pem" in message and SECRET not in message


def test_bad_credentials_are_a_permission_error(azure_emulator):
    provider = {**azure_provider(azure_emulator, azure_emulator.new_container()),
                "secret": "d3Jvbmcta2V5LXdyb25nLWtleQ=="}
    store = LibCloudStorage(**options_for(provider))
    with pytest.raises(PermissionError, match="refused access"):
        store.exists("x")


def test_unreachable_service_is_a_connection_error(s3_emulator):
    from emulators.base import free_port

    store = LibCloudStorage(**options_for({**s3_provider(s3_emulator, "b"), "port": free_port()}))
    with pytest.raises(ConnectionError, match="127.0.0.1"):
        store.exists("x")


# -- credentials never travel --------------------------------------------------------

def test_pickle_repr_and_option_values_hide_credentials(s3_emulator):
    bucket = s3_emulator.new_namespace()["bucket_name"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        options = options_for(seed_provider(s3_emulator, bucket), "amazon_1")
        store = LibCloudStorage(**options, file_overwrite=True)
        store.save("p.txt", ContentFile(b"p"))
        dumped = pickle.dumps(store)
        assert ACCESS.encode() not in dumped and SECRET.encode() not in dumped
        for text in (repr(store), str(store), repr(store.option_values())):
            assert ACCESS not in text and SECRET not in text
        assert "amazon_1" in repr(store)
        restored = pickle.loads(dumped)
        assert restored.option_values() == store.option_values()
        assert restored.provider["bucket"] == bucket and "key" not in restored.provider
        # Configured through settings, the credentials come back from the settings.
        with override_settings(LIBCLOUD_PROVIDERS={"amazon_1": seed_provider(s3_emulator, bucket)}):
            restored = pickle.loads(pickle.dumps(LibCloudStorage("amazon_1")))
            assert restored.open("p.txt").read() == b"p"


# -- requests: listing by prefix, small saves --------------------------------------------

@pytest.fixture
def counted_s3(s3_emulator):
    with CountingProxy(s3_emulator.host, s3_emulator.port) as proxy:
        bucket = s3_emulator.new_namespace()["bucket_name"]
        provider = {**s3_provider(s3_emulator, bucket), "port": proxy.port}
        yield LibCloudStorage(**options_for(provider), file_overwrite=True), proxy


def test_listdir_lists_by_prefix(counted_s3):
    store, proxy = counted_s3
    for name in ["a/1", "a/2", "a/sub/3", "b/4", "ab"]:
        store.save(name, ContentFile(b""))
    with proxy.counting() as counter:
        assert store.listdir("a") == (["sub"], ["1", "2"])
    assert len(counter.requests) == 1
    method, path = counter.requests[0]
    assert method == "GET" and urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["prefix"] == ["a/"]


def test_small_save_is_one_request_and_reads_stream(counted_s3):
    store, proxy = counted_s3
    with proxy.counting() as counter:
        store.save("one.txt", ContentFile(b"one request"))
    assert [m for m, _ in counter.requests] == ["PUT"]
    with proxy.counting() as counter:
        with store.open("one.txt") as f:
            assert f.read() == b"one request"
    # One GET, its headers giving the size (libcloud would HEAD the bucket, HEAD the object, GET).
    assert [m for m, _ in counter.requests] == ["GET"]
    assert f.size == len(b"one request")
    for call in (store.exists, store.size):
        with proxy.counting() as counter:
            call("one.txt")
        assert [m for m, _ in counter.requests] == ["HEAD"], call
    with proxy.counting() as counter:  # a missing object: its HEAD, then the listing that tells
        assert not store.exists("none.txt")  # a missing object from a missing bucket
    assert [m for m, _ in counter.requests] == ["HEAD", "GET"]


def test_s3_reads_hold_at_most_one_chunk_of_the_chunk_size(counted_s3, monkeypatch):
    """The GET's body arrives in chunks of the storage's chunk size, so a read of that size
    hands one on uncopied and the reader never holds more (the driver's own chunks are 5 MiB,
    sliced into every read)."""
    import storages.backends.apache_libcloud as backend

    held = []

    class Watched(ChunkStream):
        def read(self, n=-1):
            data = super().read(n)
            held.append(len(self._chunk))
            return data

    monkeypatch.setattr(backend, "ChunkStream", Watched)
    store, _ = counted_s3
    size, chunk = 12 * 1024 * 1024, store.chunk_size
    store.save("big.bin", ContentFile(os.urandom(1024) * (size // 1024)))
    with store.open("big.bin") as f:
        pieces = iter(lambda: f.read(chunk), b"")
        assert sum(len(piece) for piece in pieces) == size
    assert held and max(held) <= chunk, f"held {max(held) / chunk:.1f} chunks"


def test_a_missing_container_is_still_reported_as_one(s3_emulator):
    store = LibCloudStorage(**options_for(s3_provider(s3_emulator, "no-such-bucket-here")))
    for call in (store.exists, store.size, store.open):
        with pytest.raises(ImproperlyConfigured, match="no-such-bucket-here.*does not exist"):
            call("a.txt")


# -- failures leave nothing behind -----------------------------------------------------------

def test_failed_multipart_upload_is_aborted_on_s3(s3_emulator):
    bucket = s3_emulator.new_namespace()["bucket_name"]
    store = LibCloudStorage(**options_for(s3_provider(s3_emulator, bucket)), file_overwrite=True)
    with pytest.raises(OSError, match="source failed"):
        store.save("big.bin", File(FailingSource(store.part_size * 2 + 5), name="big.bin"))
    assert not store.exists("big.bin")
    assert list(store.driver.ex_iterate_multipart_uploads(store._container())) == []


def test_s3_streamed_save_with_overwrite_off_finds_the_name_taken(s3_emulator):
    bucket = s3_emulator.new_namespace()["bucket_name"]
    store = LibCloudStorage(**options_for(s3_provider(s3_emulator, bucket)))
    big = b"b" * (store.part_size + 10)
    assert store.save("big.bin", ContentFile(big)) == "big.bin"
    second = store.save("big.bin", ContentFile(big[::-1]))
    assert second != "big.bin" and store.open("big.bin").read() == big
    assert store.open(second).read() == big[::-1]
    assert list(store.driver.ex_iterate_multipart_uploads(store._container())) == []


def test_failed_local_save_leaves_no_staging_file(local):
    for limit in (100, local.part_size + 1):
        with pytest.raises(OSError):
            local.save("f.bin", File(FailingSource(limit), name="f.bin"))
    staging = os.path.join(local.driver.get_container_cdn_url(local._container()), ".lock")
    assert os.listdir(staging) == []
    assert local.listdir("") == ([], [])


def test_local_uploads_are_staged_under_the_core_temp_name(local):
    f = local.open("sub/up.bin", "wb")
    f.write(b"u" * (local.part_size + 1))  # one part written: the staging file exists
    staging = os.path.join(local.driver.get_container_cdn_url(local._container()), ".lock")
    staged = os.listdir(staging)
    assert len(staged) == 1 and is_temp_name(staged[0])
    assert local.listdir("") == ([], []) and not local.exists("sub/up.bin")
    f.close()
    assert os.listdir(staging) == [] and local.listdir("sub") == ([], ["up.bin"])


def test_local_create_only_never_replaces(local):
    assert local.save("same.txt", ContentFile(b"1")) == "same.txt"
    second = local.save("same.txt", ContentFile(b"2"))
    assert second != "same.txt" and local.open("same.txt").read() == b"1"
    assert oct(os.stat(local.driver.get_object_cdn_url(local._object(second))).st_mode & 0o777) == "0o664"


def test_azure_create_only_uses_the_service_precondition(azure_emulator):
    store = LibCloudStorage(**options_for(azure_provider(azure_emulator, azure_emulator.new_container())))
    store.save("x.txt", ContentFile(b"first"))
    upload = store._begin_upload("x.txt", create_only=True, content_type=None)
    with pytest.raises(FileExistsError):
        upload.commit(b"second")  # no HEAD first: Azure itself refuses (BlobAlreadyExists)
    streamed = store._begin_upload("x.txt", create_only=True, content_type=None)
    streamed.write_part(b"s" * store.part_size)
    with pytest.raises(FileExistsError):
        streamed.commit(b"tail")  # Put Block List with If-None-Match: *
    assert store.open("x.txt").read() == b"first"


# -- urls --------------------------------------------------------------------------------------

def test_s3_url_is_presigned_with_expiry(s3_emulator):
    bucket = s3_emulator.new_namespace()["bucket_name"]
    store = LibCloudStorage(**options_for(s3_provider(s3_emulator, bucket)))
    store.save("dir/ü name.txt", ContentFile(b"u"))
    url = store.url("dir/ü name.txt", expire=120)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"u"


def test_azure_sas_url_signs_names_that_need_escaping(azure_emulator):
    store = LibCloudStorage(**options_for(azure_provider(azure_emulator, azure_emulator.new_container())))
    store.save("d/ü name+1.txt", ContentFile(b"sas"))
    url = store.url("d/ü name+1.txt")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"sas"
    tampered = url.replace("sp=r", "sp=rw")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(tampered, timeout=10)
    assert info.value.code == 403


def test_local_url_is_the_file_path(local):
    local.save("d/u.txt", ContentFile(b"u"))
    assert local.url("d/u.txt", expire=60) == local.url("d/u.txt")
    with open(local.url("d/u.txt"), "rb") as f:
        assert f.read() == b"u"
    for name in ("d", "d/"):  # a directory (storages.core.base, "Directories")
        assert local.exists(name)
        with pytest.raises(IsADirectoryError):
            local.open(name)


# -- the emulator ------------------------------------------------------------------------------

def test_emulator_lifecycle():
    emulator = LibcloudEmulator()
    with emulator:
        assert emulator.health()
        store = LibCloudStorage(**emulator.storage_options())
        store.save("a.txt", ContentFile(b"a"))
        fresh = LibCloudStorage(**emulator.new_namespace())
        assert fresh.listdir("") == ([], []) and store.exists("a.txt")
        emulator.reset()
        assert not store.exists("a.txt") and store.listdir("") == ([], [])
        base = emulator.base_path
    assert not emulator.health() and not os.path.exists(base)
    emulator.stop()  # idempotent


def test_location_prefixes_every_key(libcloud_emulator):
    options = libcloud_emulator.new_namespace()
    rooted = LibCloudStorage(**options, location="/media/")
    whole = LibCloudStorage(**options)
    rooted.save("a/b.txt", ContentFile(b"b"))
    assert whole.listdir("media/a") == ([], ["b.txt"]) and rooted.listdir("") == (["a"], [])
    assert rooted.url("a/b.txt").endswith(os.path.join("media", "a", "b.txt"))


def test_a_driver_without_ranges_reads_from_the_start_and_the_core_skips(s3_emulator):
    """libcloud drivers that do not override download_object_range_as_stream raise
    NotImplementedError from the base class: seeks then read from byte 0 (FromStart)."""
    import types

    from libcloud.storage.base import StorageDriver

    bucket = s3_emulator.new_namespace()["bucket_name"]
    store = LibCloudStorage(**options_for(s3_provider(s3_emulator, bucket)))
    data = os.urandom(3 * 1024 * 1024 + 5)
    store.save("r.bin", ContentFile(data))
    driver = store.driver
    driver.download_object_range_as_stream = types.MethodType(StorageDriver.download_object_range_as_stream,
                                                              driver)
    with pytest.raises(NotImplementedError):
        driver.download_object_range_as_stream(store._object(store._key("r.bin")), 1)
    with store.open("r.bin") as f:
        f.seek(2 * 1024 * 1024 + 3)
        assert f.read(10) == data[2 * 1024 * 1024 + 3:][:10]
        f.seek(17)
        assert f.read() == data[17:]


def test_chunk_stream_reads_across_chunks():
    stream = ChunkStream(iter([b"abc", b"", b"defg", b"h"]))
    assert stream.read(2) == b"ab" and stream.read(3) == b"cde" and stream.read() == b"fgh"
    assert stream.read(1) == b""
