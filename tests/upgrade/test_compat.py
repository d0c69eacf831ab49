"""How the compatibility layer (storages.core.compat, .update, the backends' upstream names)
keeps its promises: built lazily, nothing lost, clear errors, secrets kept out."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import warnings

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import Storage

from storages.backends.apache_libcloud import LibCloudStorage
from storages.backends.dropbox import DropboxStorageException
from storages.backends.ftp import FTPStorageException
from storages.backends.s3 import S3Storage


@pytest.mark.storages("s3")
def test_s3_resources_cost_no_request_until_used_and_the_storage_never_builds_them(
        emulated_storages, storage_requests):
    storage = type(emulated_storages.storage)(**emulated_storages.options)
    bucket = storage.bucket
    assert bucket.name == storage.bucket_name and storage.connection.meta.client is bucket.meta.client
    assert storage.unsigned_connection is not storage.connection
    assert storage_requests.calls == []  # a Bucket and the resources are local objects
    bucket.Object("a.txt").put(Body=b"a")  # the first call sends the first request
    assert storage_requests.operations() == ["put"]
    fresh = type(storage)(**emulated_storages.options)
    fresh.save("b.txt", ContentFile(b"b"))
    fresh.open("b.txt").read()
    fresh.exists("b.txt"), fresh.listdir(""), fresh.url("b.txt"), fresh.delete("b.txt")
    assert not {"resource", "bucket_resource", "unsigned_resource"} & set(vars(fresh._local))


@pytest.mark.storages("s3")
def test_s3_resources_are_per_thread(emulated_storages):
    import threading

    storage = emulated_storages.storage
    seen = []
    thread = threading.Thread(target=lambda: seen.append((storage.connection, storage.bucket)))
    thread.start()
    thread.join()
    assert storage.connection is storage.connection and storage.bucket is storage.bucket
    assert seen[0][0] is not storage.connection and seen[0][1] is not storage.bucket


@pytest.mark.storages("azure")
def test_append_never_loses_a_concurrent_write(emulated_storages):
    storage = emulated_storages.storage
    storage.save("shared.txt", ContentFile(b"v1"))
    other = type(storage)(**emulated_storages.options, file_overwrite=True)
    f = storage.open("shared.txt", "ab")
    f.write(b"+mine")
    other.save("shared.txt", ContentFile(b"v2 by someone else"))
    with pytest.raises(FileExistsError, match="changed .* opened in mode 'ab'; nothing was written"):
        f.close()
    assert storage.open("shared.txt").read() == b"v2 by someone else"
    # a file that appeared meanwhile is not replaced either
    g = storage.open("appeared.txt", "a")
    g.write("mine")
    other.save("appeared.txt", ContentFile(b"theirs"))
    with pytest.raises(FileExistsError):
        g.close()
    assert storage.open("appeared.txt").read() == b"theirs"


@pytest.mark.storages("azure")
def test_update_mode_error_inside_with_changes_nothing(emulated_storages):
    storage = emulated_storages.storage
    storage.save("keep.txt", ContentFile(b"original"))
    with pytest.raises(RuntimeError):
        with storage.open("keep.txt", "r+b") as f:
            f.write(b"CHANGED")
            raise RuntimeError("the caller failed")
    assert storage.open("keep.txt").read() == b"original"
    with pytest.raises(FileNotFoundError):
        storage.open("missing.txt", "r+")
    with storage.open("keep.txt", "a+b") as f:  # a+ reads from the start after a seek, writes at the end
        f.seek(0)
        assert f.read() == b"original"
        f.seek(0)
        f.write(b"!")
        assert f.size == 9
    assert storage.open("keep.txt").read() == b"original!"


@pytest.mark.storages("s3", "ftp")
def test_update_modes_are_refused_clearly_where_upstream_had_none(emulated_storages):
    storage = emulated_storages.storage
    storage.save("x.txt", ContentFile(b"x"))
    for mode in ("a", "r+", "w+b"):
        with pytest.raises(ValueError, match=r"cannot change a stored file in place.*save\(\) the new"):
            storage.open("x.txt", mode)
    with pytest.raises(ValueError, match="invalid mode"):
        storage.open("x.txt", "ra")


@pytest.mark.storages("s3")
def test_files_take_str_and_bytes_in_any_mode(emulated_storages):
    storage = emulated_storages.storage
    with storage.open("text.txt", "w") as f:
        f.write("héllo ")
        f.write(b"bytes")
    with storage.open("binary.bin", "wb") as f:
        f.write(b"raw ")
        f.write("str")
    assert storage.open("text.txt").read() == "héllo bytes".encode()
    assert storage.open("binary.bin").read() == b"raw str"


@pytest.mark.storages("ftp", "dropbox")
def test_upstream_exception_classes_catch_what_the_storage_raises(emulated_storages, storages_backend):
    legacy = {"ftp": FTPStorageException, "dropbox": DropboxStorageException}[storages_backend]
    storage = emulated_storages.storage
    storage.save("here.txt", ContentFile(b"x"))
    with pytest.raises(legacy) as missing:  # upstream code: `except FTPStorageException:`
        storage.open("missing.txt").read()
    assert isinstance(missing.value, FileNotFoundError)  # and new code's except clauses
    assert type(missing.value).__name__ == "FileNotFoundError"
    assert str(missing.value) and missing.value.__cause__ is not None
    restored = pickle.loads(pickle.dumps(missing.value))
    assert isinstance(restored, legacy) and isinstance(restored, FileNotFoundError)
    assert str(restored) == str(missing.value)
    try:
        storage.size("missing.txt")
    except legacy:
        pass
    assert storage.open("here.txt").read() == b"x"
    assert not issubclass(FileNotFoundError, legacy) and issubclass(legacy, Exception)


class Vendor(S3Storage):
    """Credentials of its own, from get_default_settings() (seen in the wild)."""

    def get_default_settings(self):
        return dict(super().get_default_settings(), bucket_name="vendor-bucket",
                    secret_key="VENDOR-SECRET-KEY", access_key="AKIDVENDOR")


def test_get_default_settings_secrets_stay_out_of_pickles():
    storage = Vendor()
    assert storage.bucket_name == "vendor-bucket" and storage.secret_key == "VENDOR-SECRET-KEY"
    assert "VENDOR-SECRET-KEY" not in repr(storage)
    data = pickle.dumps(storage)
    assert b"VENDOR-SECRET-KEY" not in data
    assert pickle.loads(data).secret_key == "VENDOR-SECRET-KEY"  # resolved again by the override


def test_storages_base_counts_every_backend_and_nothing_else():
    from storages.base import BaseStorage

    assert isinstance(S3Storage(), BaseStorage) and issubclass(LibCloudStorage, BaseStorage)
    assert not isinstance(Storage(), BaseStorage) and not issubclass(Storage, BaseStorage)


@pytest.mark.storages("libcloud")
def test_libcloud_second_argument_warns_that_it_does_nothing(emulated_storages):
    provider = emulated_storages.options["provider_name"]
    providers = emulated_storages.options["providers"]
    with pytest.warns(DeprecationWarning, match="second argument .* has no effect"):
        LibCloudStorage(provider, {"anything": 1}, providers=providers)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LibCloudStorage(provider, None, providers=providers)


def test_cloudfront_pem_keys_sign_with_rsa_when_cryptography_is_missing(tmp_path):
    """Upstream signs with the rsa package when cryptography is not installed; so do we."""
    import rsa

    public, private = rsa.newkeys(1024)
    (tmp_path / "key.pem").write_bytes(private.save_pkcs1())
    script = textwrap.dedent(f"""
        import sys
        sys.modules["cryptography"] = None  # as if it were not installed
        import django
        from django.conf import settings
        settings.configure()
        django.setup()
        from storages.backends.s3 import S3Storage
        key = open({str(tmp_path / "key.pem")!r}).read()
        print(S3Storage(bucket_name="b", custom_domain="cdn.example.com", cloudfront_key=key,
                        cloudfront_key_id="RSAONLY").url("x.txt", expire=60))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Key-Pair-Id=RSAONLY" in result.stdout and "Signature=" in result.stdout
    pkcs8 = "'-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----'"
    not_pkcs1 = script.replace("key = open(", f"key = {pkcs8} or open(")
    refused = subprocess.run([sys.executable, "-c", not_pkcs1], capture_output=True, text=True, timeout=120)
    assert "ImproperlyConfigured" in refused.stderr and "PKCS#1" in refused.stderr
