"""S3Storage configuration: Django settings, resolution order, re-reading, bad input, secrets."""

from __future__ import annotations

import threading
import traceback

import django
import pytest
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from emulators.base import free_port, unique_name
from storages.backends.s3 import S3Storage
from storages.compat import override_storages

from .signing import verify_sigv2

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYSECRET"
TOKEN = "FwoGZXIvYXdzEJr-SESSION-TOKEN-value"


def keys(raw, bucket):
    return sorted(o["Key"] for o in raw.list_objects_v2(Bucket=bucket).get("Contents", ()))


def test_documented_defaults():
    storage = S3Storage()
    assert storage.bucket_name is None
    assert storage.default_acl is None  # private: no ACL is sent (the seed said public-read)
    assert storage.auto_create_bucket is False
    assert storage.object_parameters == {}
    assert storage.querystring_auth is True
    assert storage.querystring_expire == 3600
    assert storage.encryption is False
    assert storage.file_overwrite is True
    assert storage.location == ""
    assert storage.gzip is False
    assert storage.gzip_content_types == (
        "text/css", "text/javascript", "application/javascript", "application/x-javascript", "image/svg+xml")
    assert storage.region_name is None
    assert storage.use_ssl is True
    assert storage.endpoint_url is None
    assert storage.signature_version is None
    assert storage.addressing_style is None
    assert storage.custom_domain is None
    assert storage.url_protocol == "https:"
    assert storage.session_profile is None
    assert storage.cloudfront_key is None and storage.cloudfront_key_id is None
    assert storage.max_memory_size == 0


def test_django_settings_path_saves_under_location(s3_emulator, namespace, raw):
    bucket = namespace["bucket_name"]
    with override_settings(
        AWS_ACCESS_KEY_ID="AKIDFROMSETTINGS", AWS_SECRET_ACCESS_KEY=SECRET, AWS_STORAGE_BUCKET_NAME=bucket,
        AWS_S3_ENDPOINT_URL=s3_emulator.endpoint, AWS_S3_REGION_NAME="us-east-1", AWS_LOCATION="media/",
    ):
        storage = S3Storage()
        name = storage.save("docs/report.txt", ContentFile(b"settings path"))
        assert name == "docs/report.txt"
        assert storage.open(name).read() == b"settings path"
        params = verify_sigv2(storage.url(name), SECRET, bucket)  # signed with the settings' secret
        assert params["AWSAccessKeyId"] == "AKIDFROMSETTINGS"
        assert storage.connection.meta.client.meta.region_name == "us-east-1"
    assert keys(raw, bucket) == ["media/docs/report.txt"]
    assert raw.get_object(Bucket=bucket, Key="media/docs/report.txt")["Body"].read() == b"settings path"


def test_storages_setting_with_compat_path(namespace, raw):
    from django.core.files.storage import storages

    entry = {"BACKEND": "storages.backends.s3boto3.S3Boto3Storage",
             "OPTIONS": {**namespace, "location": "up"}}
    with override_storages({"default": entry, "staticfiles": entry}):
        storages["default"].save("a.txt", ContentFile(b"x"))
    assert keys(raw, namespace["bucket_name"]) == ["up/a.txt"]


def test_legacy_default_file_storage_is_mapped_onto_storages():
    from django.conf import settings

    from storages.compat import storages_from_legacy_settings

    with override_settings(DEFAULT_FILE_STORAGE="storages.backends.s3boto3.S3Boto3Storage"):
        merged = storages_from_legacy_settings(settings)
    if django.VERSION < (5, 1):
        assert merged is None  # Django 4.2 still reads DEFAULT_FILE_STORAGE itself
        return
    assert merged["default"] == {"BACKEND": "storages.backends.s3boto3.S3Boto3Storage"}
    assert merged["staticfiles"] == settings.STORAGES["staticfiles"]


def test_environment_credentials_and_endpoint(monkeypatch, s3_emulator, namespace, raw):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMENV")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_STORAGE_BUCKET_NAME", namespace["bucket_name"])
    monkeypatch.setenv("AWS_S3_ENDPOINT_URL", s3_emulator.endpoint)
    storage = S3Storage()
    storage.save("env.txt", ContentFile(b"env"))
    assert keys(raw, namespace["bucket_name"]) == ["env.txt"]
    params = verify_sigv2(storage.url("env.txt"), SECRET, namespace["bucket_name"])
    assert params["AWSAccessKeyId"] == "AKIDFROMENV"


def test_values_are_reread_on_setting_changed(namespace, raw):
    bucket = namespace["bucket_name"]
    storage = S3Storage(**{k: v for k, v in namespace.items() if k != "bucket_name"})
    with override_settings(AWS_STORAGE_BUCKET_NAME=bucket, AWS_LOCATION="first", AWS_QUERYSTRING_EXPIRE=77,
                           AWS_S3_SIGNATURE_VERSION="s3v4"):
        storage.save("a.txt", ContentFile(b"1"))
        assert "X-Amz-Expires=77" in storage.url("a.txt")
        with override_settings(AWS_LOCATION="second"):
            storage.save("a.txt", ContentFile(b"2"))
        storage.save("b.txt", ContentFile(b"3"))
    assert keys(raw, bucket) == ["first/a.txt", "first/b.txt", "second/a.txt"]
    assert storage.bucket_name is None and storage.location == ""  # back to the defaults
    # Settings the client is built from take effect on the existing storage too.
    assert storage.connection.meta.client.meta.region_name == "us-east-1"
    with override_settings(AWS_S3_REGION_NAME="eu-central-1"):
        storage = S3Storage(endpoint_url="http://s3.example.test")
        assert storage.connection.meta.client.meta.region_name == "eu-central-1"
        with override_settings(AWS_S3_REGION_NAME="sa-east-1"):
            assert storage.connection.meta.client.meta.region_name == "sa-east-1"


def test_missing_bucket_setting_names_it_and_sends_nothing(make_storage, proxy):
    storage = make_storage(bucket_name=None, endpoint_url=proxy.endpoint)
    with proxy.counting() as counter:
        for call in (lambda: storage.save("a.txt", ContentFile(b"x")), lambda: storage.exists("a.txt"),
                     lambda: storage.url("a.txt"), lambda: storage.open("a.txt")):
            with pytest.raises(ImproperlyConfigured, match="AWS_STORAGE_BUCKET_NAME"):
                call()
    assert counter.count == 0


def test_unreachable_endpoint_names_it_without_secrets(make_storage):
    endpoint = f"http://127.0.0.1:{free_port()}"
    storage = make_storage(endpoint_url=endpoint, secret_key=SECRET, security_token=TOKEN,
                           client_config=Config(retries={"max_attempts": 1}, connect_timeout=1))
    for call in (lambda: storage.exists("a.txt"), lambda: storage.save("a.txt", ContentFile(b"x")),
                 lambda: storage.open("a.txt").read(), lambda: storage.listdir("")):
        with pytest.raises(ConnectionError) as info:
            call()
        assert endpoint in str(info.value)
        text = "".join(traceback.format_exception(info.value))
        assert SECRET not in text and TOKEN not in text


def test_clients_are_per_thread(make_storage):
    storage = make_storage()
    main = storage._client()
    assert storage._client() is main
    seen = []

    def work():
        client = storage._client()
        seen.append((client, client is storage._client()))
        storage.save(f"{threading.get_ident()}.txt", ContentFile(b"t"))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    clients = [client for client, _ in seen]
    assert all(same for _, same in seen)
    assert len({id(c) for c in clients} | {id(main)}) == 3
    assert len(storage.listdir("")[1]) == 2


def test_storages_in_one_thread_share_the_parsed_service_model(make_storage):
    first, second = make_storage()._client(), make_storage(location="x")._client()
    assert first is not second
    assert first._loader is second._loader  # the S3 model is loaded once per thread, not per storage
    other = []
    thread = threading.Thread(target=lambda: other.append(make_storage()._client()))
    thread.start()
    thread.join()
    assert other[0]._loader is not first._loader  # Sessions are not thread-safe: one per thread


def test_get_default_settings_hides_secrets(make_storage):
    """The upstream helper; repr, pickles and the rest: tests/conformance/test_configuration.py."""
    storage = make_storage(access_key="AKIDREPR", secret_key=SECRET, security_token=TOKEN)
    settings = storage.get_default_settings()
    assert settings["bucket_name"] == make_storage.bucket
    assert SECRET not in repr(settings) and TOKEN not in repr(settings) and "AKIDREPR" not in repr(settings)


def test_invalid_values_are_refused():
    with pytest.raises(ImproperlyConfigured, match="AWS_QUERYSTRING_EXPIRE"):
        S3Storage(querystring_expire="soon")
    with pytest.raises(ImproperlyConfigured, match="AWS_S3_CUSTOM_DOMAIN"):
        S3Storage(custom_domain="https://cdn.example.com/path")
    with pytest.raises(ImproperlyConfigured, match="AWS_CLOUDFRONT_KEY_ID"):
        S3Storage(cloudfront_key="-----BEGIN PRIVATE KEY-----")


def test_import_paths(make_storage, raw):
    from storages.backends import s3, s3boto, s3boto3

    assert s3boto3.S3Boto3Storage is s3.S3Storage
    assert s3boto3.S3Boto3StaticStorage is s3.S3StaticStorage
    assert s3boto3.S3Boto3ManifestStaticStorage is s3.S3ManifestStaticStorage
    assert issubclass(s3boto.S3BotoStorage, s3.S3Storage)
    for cls in (s3boto3.S3Boto3Storage, s3boto3.S3Boto3StaticStorage, s3boto.S3BotoStorage):
        name = make_storage(cls).save(f"{cls.__name__}.txt", ContentFile(b"i"))
        assert raw.get_object(Bucket=make_storage.bucket, Key=name)["Body"].read() == b"i"


def test_region_use_ssl_and_endpoint_map_onto_the_client():
    storage = S3Storage(bucket_name="b", region_name="eu-west-1", use_ssl=False)
    client = storage.connection.meta.client
    assert client.meta.region_name == "eu-west-1"
    assert client.meta.endpoint_url == "http://s3.eu-west-1.amazonaws.com"
    assert S3Storage(bucket_name="b", region_name="eu-west-1").connection.meta.client.meta.endpoint_url \
        == "https://s3.eu-west-1.amazonaws.com"
    # AWS_S3_ENDPOINT_URL overrides the region's host and AWS_S3_USE_SSL.
    custom = S3Storage(bucket_name="b", region_name="eu-west-1", use_ssl=False,
                       endpoint_url="https://objects.example.test:9000")
    assert custom.connection.meta.client.meta.endpoint_url == "https://objects.example.test:9000"
    with override_settings(AWS_S3_REGION_NAME="ap-south-1", AWS_S3_USE_SSL=False):
        assert S3Storage(bucket_name="b").connection.meta.client.meta.endpoint_url == "http://s3.ap-south-1.amazonaws.com"


def test_max_memory_size_is_accepted_with_a_warning_and_reads_still_stream(make_storage):
    """django-storages 1.14's AWS_S3_MAX_MEMORY_SIZE still works, but has no effect: it says so."""
    with pytest.warns(DeprecationWarning, match="AWS_S3_MAX_MEMORY_SIZE .*no effect.*AWS_S3_TRANSFER_CONFIG"):
        storage = make_storage(max_memory_size=1024)
    with pytest.warns(DeprecationWarning, match="AWS_S3_MAX_MEMORY_SIZE"), \
            override_settings(AWS_S3_MAX_MEMORY_SIZE=4096):
        S3Storage()
    data = bytes(range(256)) * 64
    storage.save("m.bin", ContentFile(data))
    with storage.open("m.bin") as f:
        assert f.read(100) == data[:100]
        assert f.read() == data[100:]


def test_auto_create_bucket_creates_a_missing_bucket_on_first_save(make_storage, raw):
    bucket = unique_name("auto")
    storage = make_storage(bucket_name=bucket, auto_create_bucket=True)
    storage.save("first.txt", ContentFile(b"1"))
    storage.save("second.txt", ContentFile(b"2"))
    raw.head_bucket(Bucket=bucket)
    assert keys(raw, bucket) == ["first.txt", "second.txt"]
    with override_settings(AWS_AUTO_CREATE_BUCKET=True):
        other = unique_name("auto")
        make_storage(bucket_name=other).save("x.txt", ContentFile(b"x"))
        assert keys(raw, other) == ["x.txt"]


def test_missing_bucket_without_auto_create_names_it(make_storage, raw):
    from botocore.exceptions import ClientError

    bucket = unique_name("missing")
    storage = make_storage(bucket_name=bucket)
    with pytest.raises(ImproperlyConfigured) as info:
        storage.save("a.txt", ContentFile(b"x"))
    assert bucket in str(info.value) and "AWS_AUTO_CREATE_BUCKET" in str(info.value)
    with pytest.raises(ClientError):
        raw.head_bucket(Bucket=bucket)


def test_default_content_type_proxies_and_verify(make_storage, raw):
    storage = make_storage()
    storage.save("no-extension", ContentFile(b"?"))
    with override_settings(AWS_S3_DEFAULT_CONTENT_TYPE="binary/octet-stream"):
        make_storage().save("other", ContentFile(b"?"))
    assert raw.head_object(Bucket=make_storage.bucket, Key="no-extension")["ContentType"] \
        == "application/octet-stream"
    assert raw.head_object(Bucket=make_storage.bucket, Key="other")["ContentType"] == "binary/octet-stream"
    proxies = {"https": "http://proxy.example.test:3128"}
    with override_settings(AWS_S3_PROXIES=proxies, AWS_S3_VERIFY="/etc/ssl/custom-ca.pem"):
        client = S3Storage(bucket_name="b").connection.meta.client
    assert client.meta.config.proxies == proxies
    assert client._endpoint.http_session._verify == "/etc/ssl/custom-ca.pem"
