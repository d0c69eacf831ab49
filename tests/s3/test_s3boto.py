"""S3BotoStorage: the boto-era settings, mapped onto boto3, against moto."""

from __future__ import annotations

import datetime
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from emulators.s3 import ACCESS_KEY, REGION, SECRET_KEY
from storages.backends.s3boto import S3BotoStorage

HEADERS = {
    "Expires": "Thu, 15 Apr 2010 20:00:00 GMT",
    "Cache-Control": "max-age=86400",
    "x-amz-meta-owner": "web team",
}


@pytest.fixture
def boto_settings(s3_emulator, namespace):
    """The boto-era settings that reach the emulator: host, port, no SSL."""
    return dict(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                AWS_STORAGE_BUCKET_NAME=namespace["bucket_name"], AWS_S3_REGION_NAME=REGION,
                AWS_S3_HOST="127.0.0.1", AWS_S3_PORT=s3_emulator.port, AWS_S3_USE_SSL=False)


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_host_port_and_use_ssl_reach_the_emulator(boto_settings, s3_emulator, raw):
    with override_settings(**boto_settings):
        storage = S3BotoStorage()
        assert storage.connection.meta.client.meta.endpoint_url == s3_emulator.endpoint
        name = storage.save("boto.txt", ContentFile(b"via AWS_S3_HOST"))
        assert storage.open(name).read() == b"via AWS_S3_HOST"
        assert storage.listdir("") == ([], ["boto.txt"])
    assert raw.get_object(Bucket=boto_settings["AWS_STORAGE_BUCKET_NAME"], Key="boto.txt")["Body"].read() \
        == b"via AWS_S3_HOST"


def test_default_host_is_aws():
    storage = S3BotoStorage(bucket_name="b", region_name="us-east-1")
    assert storage.host == "s3.amazonaws.com"
    assert storage.connection.meta.client.meta.endpoint_url == "https://s3.amazonaws.com"
    regional = S3BotoStorage(bucket_name="b", host="s3.eu-west-1.amazonaws.com")
    assert regional.connection.meta.client.meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"


def test_aws_headers_are_stored_on_objects(boto_settings, raw):
    with override_settings(**boto_settings, AWS_HEADERS=HEADERS):
        S3BotoStorage().save("headers.txt", ContentFile(b"h"))
    head = raw.head_object(Bucket=boto_settings["AWS_STORAGE_BUCKET_NAME"], Key="headers.txt")
    assert head["CacheControl"] == "max-age=86400"
    assert head["Expires"] == datetime.datetime(2010, 4, 15, 20, 0, tzinfo=datetime.timezone.utc)
    assert head["Metadata"] == {"owner": "web team"}
    assert head["ContentType"] == "text/plain"


def test_unknown_aws_header_is_refused():
    with pytest.raises(ImproperlyConfigured, match="AWS_HEADERS.*X-Frobnicate"):
        S3BotoStorage(bucket_name="b", headers={"X-Frobnicate": "1"})
    with pytest.raises(ImproperlyConfigured, match="AWS_HEADERS"):
        with override_settings(AWS_HEADERS={"Server": "x"}):
            S3BotoStorage(bucket_name="b")


def test_s3_use_sigv4_gives_v4_urls_that_fetch(boto_settings):
    with override_settings(**boto_settings, S3_USE_SIGV4=True):
        storage = S3BotoStorage()
        storage.save("v4.txt", ContentFile(b"sigv4"))
        url = storage.url("v4.txt")
    assert query(url)["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"sigv4"
    with override_settings(**boto_settings, S3_USE_SIGV4=False):
        # Off leaves the choice to botocore (SigV2 query auth for presigned URLs here).
        assert "X-Amz-Algorithm" not in query(S3BotoStorage().url("v4.txt"))


@pytest.mark.parametrize("calling_format, expected", [
    ("boto.s3.connection.OrdinaryCallingFormat", "https://s3.example.test/media/a.txt"),
    ("boto.s3.connection.SubdomainCallingFormat", "https://media.s3.example.test/a.txt"),
])
def test_calling_format_sets_addressing_style(calling_format, expected):
    with override_settings(AWS_S3_CALLING_FORMAT=calling_format, AWS_S3_HOST="s3.example.test"):
        storage = S3BotoStorage(bucket_name="media", access_key="k", secret_key="s")
        assert storage.url("a.txt").split("?")[0] == expected


def test_calling_format_object_and_unknown():
    class OrdinaryCallingFormat:  # what boto users pass: an instance
        pass

    storage = S3BotoStorage(bucket_name="media", host="s3.example.test", access_key="k", secret_key="s",
                            calling_format=OrdinaryCallingFormat())
    assert storage.url("a.txt").startswith("https://s3.example.test/media/a.txt")
    with pytest.raises(ImproperlyConfigured, match="AWS_S3_CALLING_FORMAT"):
        S3BotoStorage(bucket_name="media", calling_format="boto.s3.connection.MadeUpCallingFormat")


def test_secure_urls_off_gives_http_urls():
    with override_settings(AWS_S3_CUSTOM_DOMAIN="cdn.example.com", AWS_S3_SECURE_URLS=False):
        assert S3BotoStorage(bucket_name="b").url("a.css") == "http://cdn.example.com/a.css"
    assert S3BotoStorage(bucket_name="b", custom_domain="cdn.example.com").url("a.css") \
        == "https://cdn.example.com/a.css"
    # Bucket URLs too, as boto's force_http did; the signature does not cover the scheme.
    options = dict(bucket_name="b", access_key="k", secret_key="s", signature_version="s3v4",
                   region_name="us-east-1", calling_format="OrdinaryCallingFormat")
    insecure = S3BotoStorage(**options, secure_urls=False).url("a.css", expire=60)
    secure = S3BotoStorage(**options).url("a.css", expire=60)
    assert secure.startswith("https://s3.amazonaws.com/b/a.css?")
    assert insecure.startswith("http://s3.amazonaws.com/b/a.css?")
    assert query(insecure)["X-Amz-Signature"] == query(secure)["X-Amz-Signature"] or \
        query(insecure)["X-Amz-Date"] != query(secure)["X-Amz-Date"]


def test_reduced_redundancy_sets_the_storage_class(boto_settings, raw):
    with override_settings(**boto_settings, AWS_REDUCED_REDUNDANCY=True):
        S3BotoStorage().save("rr.txt", ContentFile(b"r"))
    with override_settings(**boto_settings):
        S3BotoStorage().save("standard.txt", ContentFile(b"s"))
    bucket = boto_settings["AWS_STORAGE_BUCKET_NAME"]
    assert raw.head_object(Bucket=bucket, Key="rr.txt")["StorageClass"] == "REDUCED_REDUNDANCY"
    assert "StorageClass" not in raw.head_object(Bucket=bucket, Key="standard.txt")


def test_encryption_acl_and_auto_create_work_as_on_s3storage(boto_settings, raw):
    from emulators.base import unique_name

    bucket = unique_name("boto")
    settings = {**boto_settings, "AWS_STORAGE_BUCKET_NAME": bucket, "AWS_AUTO_CREATE_BUCKET": True,
                "AWS_S3_ENCRYPTION": True, "AWS_DEFAULT_ACL": "public-read"}
    with override_settings(**settings):
        S3BotoStorage().save("e.txt", ContentFile(b"e"))
    assert raw.head_object(Bucket=bucket, Key="e.txt")["ServerSideEncryption"] == "AES256"
    grants = raw.get_object_acl(Bucket=bucket, Key="e.txt")["Grants"]
    assert any(g["Grantee"].get("URI", "").endswith("/AllUsers") and g["Permission"] == "READ"
               for g in grants)
