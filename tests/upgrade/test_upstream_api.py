"""A django-storages 1.14.6 project's code, unchanged, against the emulators.

Every statement under test uses only upstream 1.14.6's public API: its import paths,
class names, settings, constructor arguments and the usual recipes (``storage.bucket``,
``storage.connection.meta.client``, ``generate_presigned_post``, ``get_default_settings()``
overrides, ``_normalize_name(clean_name(name))`` in subclasses, ...). The ``upstream``
fixture only points upstream's settings at a fresh namespace of the backend's emulator.
"""

from __future__ import annotations

import datetime
import gzip
import io
import os
import urllib.request
import warnings

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.test import override_settings

from storages.base import BaseStorage
from storages.utils import clean_name, setting

from .conftest import ALL

MiB = 1024 * 1024

#: upstream's argument order for constructing each File class directly
FILE_ARGUMENTS = {
    "s3": lambda name, storage: (name, "rb", storage),
    "gcs": lambda name, storage: (name, "rb", storage),
    "azure": lambda name, storage: (name, "rb", storage),
    "dropbox": lambda name, storage: (name, storage),
    "ftp": lambda name, storage: (name, storage, "rb"),
    "sftp": lambda name, storage: (name, storage, "rb"),
    "libcloud": lambda name, storage: (name, storage, "rb"),
}


# -- every backend ------------------------------------------------------------------------------


@pytest.mark.storages(*ALL)
def test_storage_from_settings_saves_opens_and_lists(upstream):
    storage = upstream.storage_class()
    name = storage.save("docs/report.txt", ContentFile(b"quarterly"))
    assert name == "docs/report.txt"
    f = storage.open(name)
    assert isinstance(f, upstream.file_class) and isinstance(f, File)
    assert f.read() == b"quarterly"
    f.close()
    assert storage.exists(name) and storage.size(name) == 9
    assert "report.txt" in storage.listdir("docs")[1]
    storage.delete(name)
    assert not storage.exists(name)


@pytest.mark.storages(*ALL)
def test_default_storage_returns_the_backend_file_class(upstream):
    default_storage.save("a.txt", ContentFile(b"x"))
    with default_storage.open("a.txt") as f:
        assert isinstance(f, upstream.file_class)


@pytest.mark.storages(*ALL)
def test_file_class_constructed_in_upstream_argument_order(upstream):
    storage = upstream.storage_class()
    storage.save("direct.txt", ContentFile(b"built by hand"))
    f = upstream.file_class(*FILE_ARGUMENTS[upstream.backend]("direct.txt", storage))
    assert f.read() == b"built by hand"
    f.close()


@pytest.mark.storages("s3", "gcs", "azure", "dropbox", "ftp", "sftp")
def test_backends_are_storages_base_storages(upstream):
    assert isinstance(upstream.storage_class(), BaseStorage)
    assert issubclass(upstream.storage_class, BaseStorage)


@pytest.mark.storages("s3", "gcs", "azure", "dropbox", "ftp", "sftp")
def test_get_default_settings_override_adds_a_setting(upstream):
    """A mixin that adds a setting of its own (seen in the wild)."""

    class TimingMixin:
        def get_default_settings(self):
            return super().get_default_settings() | {"log_blob_timing": False}

    cls = type("TimedStorage", (TimingMixin, upstream.storage_class), {})
    assert cls().log_blob_timing is False
    assert cls(log_blob_timing=True).log_blob_timing is True
    with pytest.raises(ImproperlyConfigured):
        cls(no_such_setting=1)


@pytest.mark.storages("s3", "gcs", "azure")
def test_get_default_settings_override_changes_the_location(upstream):
    """A per-tenant location chosen in get_default_settings() (seen in the wild)."""

    class TenantStorage(upstream.storage_class):
        def get_default_settings(self):
            settings = super().get_default_settings()
            settings["location"] = "tenant-a"
            return settings

    TenantStorage().save("x.txt", ContentFile(b"t"))
    assert upstream.storage_class().exists("tenant-a/x.txt")
    assert TenantStorage(location="tenant-b").location == "tenant-b"  # a keyword still wins


@pytest.mark.storages("s3", "gcs", "azure")
def test_subclass_normalizing_names_like_upstream(upstream):
    class Media(upstream.storage_class):
        location = "media"

        def key_for(self, name):
            return self._normalize_name(clean_name(name))

    storage = Media()
    assert storage.key_for("a/./b.txt") == "media/a/b.txt"
    with pytest.raises(SuspiciousOperation):
        storage.key_for("../../etc/passwd")


# -- S3 ---------------------------------------------------------------------------------------------


@pytest.mark.storages("s3")
def test_s3_bucket_and_connection_are_boto3_resources(upstream):
    storage = upstream.storage_class()
    bucket_name = setting("AWS_STORAGE_BUCKET_NAME")
    assert storage.bucket.name == bucket_name
    storage.bucket.Object("from-boto3.txt").put(Body=b"put by boto3")
    assert storage.open("from-boto3.txt").read() == b"put by boto3"
    storage.save("from-storage.txt", ContentFile(b"12345"))
    assert storage.bucket.Object("from-storage.txt").content_length == 5
    head = storage.connection.meta.client.head_object(Bucket=bucket_name, Key="from-storage.txt")
    assert head["ContentLength"] == 5
    assert [o.key for o in storage.bucket.objects.all()] == ["from-boto3.txt", "from-storage.txt"]


@pytest.mark.storages("s3")
def test_s3_presigned_post_through_bucket_meta_client(upstream):
    import requests

    storage = upstream.storage_class()
    post = storage.bucket.meta.client.generate_presigned_post(
        Bucket=storage.bucket_name, Key="uploads/direct.bin", ExpiresIn=300)
    response = requests.post(post["url"], data=post["fields"], files={"file": b"browser bytes"}, timeout=30)
    assert response.status_code in (200, 204), response.text
    assert storage.open("uploads/direct.bin").read() == b"browser bytes"


@pytest.mark.storages("s3")
def test_s3_unsigned_connection_signs_nothing(upstream):
    storage = upstream.storage_class()
    storage.save("private.txt", ContentFile(b"p"))
    url = storage.unsigned_connection.meta.client.generate_presigned_url(
        "get_object", Params={"Bucket": storage.bucket_name, "Key": "private.txt"})
    assert "Signature" not in url and "X-Amz-" not in url
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=30)
    assert refused.value.code == 403
    assert urllib.request.urlopen(storage.url("private.txt"), timeout=30).read() == b"p"


@pytest.mark.storages("s3")
def test_s3_file_has_its_boto3_object(upstream):
    from storages.backends.s3 import S3File
    from storages.backends.s3boto3 import S3Boto3StorageFile

    storage = upstream.storage_class()
    storage.save("obj.txt", ContentFile(b"abc"))
    with storage.open("obj.txt") as f:
        assert isinstance(f, S3File) and S3File is S3Boto3StorageFile
        assert f.obj.key == "obj.txt" and f.obj.content_length == 3
    f = S3File("obj.txt", "rb", storage, 6 * MiB)
    assert f.buffer_size == 6 * MiB and f.read() == b"abc"


@pytest.mark.storages("s3")
def test_s3_file_buffer_size_is_the_part_size_of_writes(upstream):
    data = os.urandom(11 * MiB)
    with override_settings(AWS_S3_FILE_BUFFER_SIZE=5 * MiB):
        storage = upstream.storage_class()
        with storage.open("big.bin", "wb") as f:
            for start in range(0, len(data), MiB):
                f.write(data[start:start + MiB])
    assert storage.bucket.Object("big.bin").e_tag.strip('"').endswith("-3")  # 5 + 5 + 1 MiB parts
    assert storage.open("big.bin").read() == data


@pytest.mark.storages("s3")
def test_s3_transfer_config_threshold_chunk_size_and_threads(upstream):
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(6 * MiB)
    multipart = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2)
    with override_settings(AWS_S3_TRANSFER_CONFIG=multipart):
        storage = upstream.storage_class()
        storage.save("multi.bin", ContentFile(data))
    assert storage.bucket.Object("multi.bin").e_tag.strip('"').endswith("-2")
    single = TransferConfig(multipart_threshold=16 * MiB, multipart_chunksize=5 * MiB, use_threads=False)
    with override_settings(AWS_S3_TRANSFER_CONFIG=single):
        upstream.storage_class().save("single.bin", ContentFile(data))
    assert "-" not in storage.bucket.Object("single.bin").e_tag
    assert storage.open("single.bin").read() == data == storage.open("multi.bin").read()


@pytest.mark.storages("s3")
def test_s3_deprecated_settings_still_work(upstream):
    from botocore.config import Config

    with pytest.warns(DeprecationWarning, match="AWS_S3_TRANSFER_CONFIG"):
        with override_settings(AWS_S3_USE_THREADS=False, AWS_S3_FILE_NAME_CHARSET="utf-8"):
            storage = upstream.storage_class()
            storage.save("no-threads.txt", ContentFile(b"n"))
    assert storage.open("no-threads.txt").read() == b"n"

    class Configured(upstream.storage_class):
        config = Config(user_agent_extra="from-config-attribute")

    with pytest.warns(DeprecationWarning, match="AWS_S3_CLIENT_CONFIG"):
        configured = Configured()
    assert configured.connection.meta.client.meta.config.user_agent_extra == "from-config-attribute"
    configured.save("configured.txt", ContentFile(b"c"))
    assert configured.exists("configured.txt")


def _cloudfront_expiry(url):
    from urllib.parse import parse_qs, urlsplit

    return int(parse_qs(urlsplit(url).query)["Expires"][0])


@pytest.mark.storages("s3")
def test_s3_cloudfront_signer_option_and_hook(upstream):
    from botocore.signers import CloudFrontSigner

    signed = []

    def sign(message):
        signed.append(message)
        return b"signature"

    signer = CloudFrontSigner("KEYPAIRID", sign)
    with override_settings(AWS_S3_CUSTOM_DOMAIN="cdn.example.com"):
        url = upstream.storage_class(cloudfront_signer=signer).url("a.txt")
        assert url.startswith("https://cdn.example.com/a.txt?Expires=") and "Key-Pair-Id=KEYPAIRID" in url
        assert b"https://cdn.example.com/a.txt" in signed[0]

        class Hooked(upstream.storage_class):
            def get_cloudfront_signer(self, key_id, key):
                assert (key_id, key) == ("HOOKID", "hook-key")
                return CloudFrontSigner(key_id, lambda message: b"hooked")

        with override_settings(AWS_CLOUDFRONT_KEY_ID="HOOKID", AWS_CLOUDFRONT_KEY="hook-key"):
            assert "Key-Pair-Id=HOOKID" in Hooked().url("b.txt", expire=60)


@pytest.mark.storages("s3")
def test_s3_cloudfront_keys_from_the_rsa_package(upstream):
    import rsa

    public, private = rsa.newkeys(1024)
    pem = private.save_pkcs1().decode()
    for key in (pem, private):  # a PKCS#1 PEM, as upstream's rsa backend reads, and an rsa key object
        with override_settings(AWS_S3_CUSTOM_DOMAIN="cdn.example.com", AWS_CLOUDFRONT_KEY_ID="RSAKEY",
                               AWS_CLOUDFRONT_KEY=key):
            url = upstream.storage_class().url("c.txt", expire=120)
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(url).query)
        signature = query["Signature"][0].replace("-", "+").replace("_", "=").replace("~", "/")
        policy = ('{"Statement":[{"Resource":"https://cdn.example.com/c.txt","Condition":'
                  f'{{"DateLessThan":{{"AWS:EpochTime":{_cloudfront_expiry(url)}}}}}}}]}}').encode()
        import base64

        assert rsa.verify(policy, base64.b64decode(signature), public) == "SHA-1"


# -- GCS ----------------------------------------------------------------------------------------------


@pytest.mark.storages("gcs")
def test_gcs_bucket_client_and_blob(upstream):
    from storages.backends.gcloud import CONTENT_TYPE, GoogleCloudFile

    storage = upstream.storage_class()
    assert storage.bucket.name == setting("GS_BUCKET_NAME")
    storage.save("g.txt", ContentFile(b"gcs!"))
    assert storage.bucket.get_blob("g.txt").size == 4
    assert [b.name for b in storage.client.list_blobs(storage.bucket)] == ["g.txt"]
    with storage.open("g.txt") as f:
        assert isinstance(f, GoogleCloudFile) and f.blob.size == 4 and f.mime_type == "text/plain"
    assert CONTENT_TYPE == "content_type"


@pytest.mark.storages("gcs")
def test_gcs_public_acl_chosen_in_get_default_settings(upstream):
    class PublicMediaStorage(upstream.storage_class):
        def get_default_settings(self):
            settings = super().get_default_settings()
            settings["default_acl"] = "publicRead"
            return settings

    assert "Signature" not in PublicMediaStorage().url("pic.png")
    assert "Signature" in upstream.storage_class().url("pic.png")


# -- Azure --------------------------------------------------------------------------------------------


@pytest.mark.storages("azure")
def test_azure_list_all_and_clients(upstream):
    storage = upstream.storage_class()
    for name in ("a.txt", "dir/b.txt", "dir/sub/c.txt"):
        storage.save(name, ContentFile(b"."))
    assert sorted(storage.list_all()) == ["a.txt", "dir/b.txt", "dir/sub/c.txt"]
    assert sorted(storage.list_all("dir")) == ["dir/b.txt", "dir/sub/c.txt"]
    assert storage.client.container_name == setting("AZURE_CONTAINER")
    assert storage.service_client.account_name == storage.client.account_name
    assert storage.azure_protocol in ("http", "https")


@pytest.mark.storages("azure")
def test_azure_user_delegation_key_needs_a_token_credential(upstream):
    expiry = datetime.datetime.utcnow() + datetime.timedelta(hours=1)
    assert upstream.storage_class().get_user_delegation_key(expiry) is None


@pytest.mark.storages("azure")
def test_azure_append_and_update_modes(upstream):
    from storages.backends.azure_storage import AzureStorageFile

    storage = upstream.storage_class()
    storage.save("log.txt", ContentFile(b"line 1\n"))
    with storage.open("log.txt", "a") as f:
        assert isinstance(f, AzureStorageFile)
        f.write(b"line 2\n")
    assert storage.open("log.txt").read() == b"line 1\nline 2\n"
    with storage.open("log.txt", "r+b") as f:
        assert f.read(4) == b"line"
        f.write(b"-")
    assert storage.open("log.txt").read() == b"line-1\nline 2\n"
    with storage.open("new.txt", "a") as f:  # 'a' creates a missing file
        f.write(b"first")
    assert storage.open("new.txt").read() == b"first"
    with storage.open("log.txt", "w+") as f:
        f.write("replaced")
        f.seek(0)
        assert f.read() == "replaced"
    assert storage.open("log.txt").read() == b"replaced"


# -- Dropbox, FTP, SFTP, libcloud ------------------------------------------------------------------------


@pytest.mark.storages("dropbox")
def test_dropbox_client_and_file_names(upstream):
    import dropbox

    from storages.backends.dropbox import DropBoxFile, DropboxFile, DropboxStorage

    storage = upstream.storage_class()
    assert isinstance(storage, DropboxStorage) and isinstance(storage.client, dropbox.Dropbox)
    storage.save("d.txt", ContentFile(b"dbx"))
    with storage.open("d.txt") as f:
        assert isinstance(f, DropboxFile) and DropboxFile is DropBoxFile


@pytest.mark.storages("ftp")
def test_ftp_disconnect_and_exception(upstream):
    from storages.backends.ftp import FTPStorageException

    storage = upstream.storage_class()
    storage.save("f.txt", ContentFile(b"ftp"))
    storage.disconnect()
    assert storage.open("f.txt").read() == b"ftp"  # reconnects
    storage.disconnect()
    with pytest.raises(FTPStorageException):
        storage.open("missing.txt").read()


@pytest.mark.storages("sftp")
def test_sftp_property_and_context_manager(upstream):
    with upstream.storage_class() as storage:
        storage.save("s.txt", ContentFile(b"sftp"))
        root = setting("SFTP_STORAGE_ROOT")
        assert storage.sftp.stat(f"{root.rstrip('/')}/s.txt").st_size == 4
        assert "s.txt" in storage.sftp.listdir(root)
    assert storage.open("s.txt").read() == b"sftp"  # closed by `with`, reconnects when used
    storage.close()


@pytest.mark.storages("libcloud")
def test_libcloud_second_positional_argument_and_driver(upstream):
    provider = setting("DEFAULT_LIBCLOUD_PROVIDER")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # upstream ignored it; we say so
        storage = upstream.storage_class(provider, None)
        storage = upstream.storage_class(provider, {"unused": True})
    assert storage.bucket == setting("LIBCLOUD_PROVIDERS")[provider]["bucket"]
    assert storage.driver.get_container(storage.bucket).name == storage.bucket
    storage.save("l.txt", ContentFile(b"lc"))
    assert storage.open("l.txt").read() == b"lc"


# -- storages.utils, storages.base, storages.compress -----------------------------------------------------


def test_utils_keep_upstream_semantics(monkeypatch):
    from pathlib import PurePosixPath

    from storages.utils import get_available_overwrite_name, lookup_env, safe_join

    assert clean_name("path/to/../somewhere/") == "path/somewhere/"
    assert clean_name("a\\b/c") == "a/b/c" and clean_name(".") == "" and clean_name("") == ""
    assert clean_name(PurePosixPath("dir/file.txt")) == "dir/file.txt"
    assert safe_join("media", "a/b.txt") == "media/a/b.txt"
    assert safe_join("", "/abs/x.txt") == "abs/x.txt"
    assert safe_join("media", "dir/") == "media/dir/"
    with pytest.raises(ValueError):
        safe_join("media", "../outside.txt")
    assert get_available_overwrite_name("dir/some-long-name.txt", None) == "dir/some-long-name.txt"
    assert get_available_overwrite_name("dir/some-long-name.txt", 16) == "dir/some-lon.txt"
    with pytest.raises(SuspiciousOperation):
        get_available_overwrite_name("dir/name.txt", 7)
    with pytest.raises(SuspiciousOperation):
        get_available_overwrite_name("../escape.txt", None)
    monkeypatch.delenv("STORAGES_FIRST", raising=False)
    monkeypatch.setenv("STORAGES_SECOND", "2")
    assert lookup_env(["STORAGES_FIRST", "STORAGES_SECOND"]) == "2"
    assert lookup_env(["STORAGES_FIRST"]) is None
    with override_settings(MY_SETTING="set"):
        assert setting("MY_SETTING") == "set" and setting("NOT_A_SETTING", 7) == 7


class DirectoryStorage(BaseStorage):
    """A custom storage built on upstream's base, as vendored storages in the wild are."""

    def get_default_settings(self):
        return {"root": setting("DIRECTORY_STORAGE_ROOT"), "prefix": setting("DIRECTORY_STORAGE_PREFIX", "")}

    def _path(self, name):
        return os.path.join(self.root, self.prefix + clean_name(name))

    def _save(self, name, content):
        os.makedirs(os.path.dirname(self._path(name)), exist_ok=True)
        with open(self._path(name), "wb") as out:
            for chunk in content.chunks():
                out.write(chunk)
        return name

    def _open(self, name, mode="rb"):
        return File(open(self._path(name), mode))

    def exists(self, name):
        return os.path.exists(self._path(name))


def test_custom_storage_on_upstream_base(tmp_path):
    with override_settings(DIRECTORY_STORAGE_ROOT=str(tmp_path)):
        storage = DirectoryStorage(prefix="p-")
        assert storage.root == str(tmp_path) and storage.prefix == "p-"
        name = storage.save("sub/x.txt", ContentFile(b"custom"))
        with storage.open(name) as f:
            assert f.read() == b"custom"
        assert (tmp_path / "p-sub" / "x.txt").read_bytes() == b"custom"
        with pytest.raises(ImproperlyConfigured, match="Invalid setting 'colour' for DirectoryStorage"):
            DirectoryStorage(colour="red")


def test_compress_helpers_round_trip():
    from storages.compress import CompressedFileMixin, CompressStorageMixin, GzipCompressionWrapper

    data = os.urandom(3000) * 50
    compressed = GzipCompressionWrapper(io.BytesIO(data)).read()
    assert gzip.decompress(compressed) == data
    wrapped = CompressStorageMixin()._compress_content(io.BytesIO(b"text" * 1000))
    assert gzip.decompress(io.BufferedReader(wrapped).read()) == b"text" * 1000
    decoded = CompressedFileMixin()._decompress_file(mode="rb", file=io.BytesIO(compressed))
    assert decoded.read() == data
