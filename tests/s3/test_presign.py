"""S3: url() presigned for AWS_S3_CUSTOM_DOMAIN (AWS_S3_CUSTOM_DOMAIN_PRESIGN), and
direct_upload() as a presigned POST carrying the object parameters.

The emulator checks every signature as S3 does, Host header included. A custom domain
that is the bucket's own host (``<bucket>.cdn.example.test``) is reached the way DNS
would send it there: the request goes to the emulator's address with that Host.
"""

from __future__ import annotations

import http.client
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from emulators.contract.support import send_direct_upload
from emulators.s3 import SECRET_KEY
from storages.backends.s3 import S3Storage

from .signing import verify_sigv4


def fetch_as(url: str, port: int, method: str = "GET", body: bytes | None = None) -> tuple[int, bytes, dict]:
    """``url`` fetched from the emulator on ``port`` with the URL's own host in the Host header."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, f"{parts.path}?{parts.query}", body=body, headers={"Host": parts.netloc})
        response = conn.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        conn.close()


@pytest.fixture
def bucket_host(make_storage, s3_emulator):
    """A custom domain that is the bucket's own host (path-less: ``http://<domain>/<key>``)."""
    return f"{make_storage.bucket}.cdn.example.test:{s3_emulator.port}"


def test_url_is_presigned_for_a_custom_domain_bound_to_the_bucket(make_storage, s3_emulator, bucket_host):
    make_storage().save("docs/a b.txt", ContentFile(b"through the domain"))
    storage = make_storage(custom_domain=bucket_host, custom_domain_presign=True, url_protocol="http:",
                           addressing_style="virtual", location="")
    url = storage.url("docs/a b.txt", parameters={"ResponseContentDisposition": "attachment"}, expire=120)
    assert url.startswith(f"http://{bucket_host}/docs/a%20b.txt?")
    params = verify_sigv4(url, SECRET_KEY)
    assert params["X-Amz-SignedHeaders"] == "host" and params["X-Amz-Expires"] == "120"
    status, body, headers = fetch_as(url, s3_emulator.port)
    assert (status, body) == (200, b"through the domain")
    assert headers["Content-Disposition"] == "attachment"
    # Signed for that host: the same URL presented for another host is refused.
    other_host = url.replace(".cdn.example.test", ".other.example.test")
    assert fetch_as(other_host, s3_emulator.port)[0] == 403


def test_path_style_custom_domain_carries_the_bucket_in_the_path(make_storage, s3_emulator):
    storage = make_storage(custom_domain=f"localhost:{s3_emulator.port}", custom_domain_presign=True,
                           url_protocol="http:", location="media")
    storage.save("a.txt", ContentFile(b"path style"))
    url = storage.url("a.txt")
    assert url.startswith(f"http://localhost:{s3_emulator.port}/{make_storage.bucket}/media/a.txt?X-Amz-")
    assert requests.get(url, timeout=10).content == b"path style"
    # The endpoint's own host is another host: the signature does not hold there.
    assert requests.get(url.replace("localhost", "127.0.0.1"), timeout=10).status_code == 403
    put = storage.url("b.txt", http_method="PUT", expire=60)
    assert requests.put(put, data=b"put via the domain", timeout=10).status_code == 200
    assert storage.open("b.txt").read() == b"put via the domain"


def test_the_setting_is_opt_in_and_off_without_querystring_auth(make_storage):
    plain = make_storage(custom_domain="cdn.example.com")
    assert plain.url("a.txt") == "https://cdn.example.com/a.txt"  # upstream's behaviour: unsigned
    with override_settings(AWS_S3_CUSTOM_DOMAIN="cdn.example.com", AWS_S3_CUSTOM_DOMAIN_PRESIGN=True):
        storage = S3Storage(bucket_name="b", access_key="k", secret_key="s", region_name="eu-west-1")
        url = storage.url("a b.txt")
        assert url.startswith("https://cdn.example.com/a%20b.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256")
        assert "eu-west-1" in parse_qs(urlsplit(url).query)["X-Amz-Credential"][0]
        assert S3Storage(bucket_name="b", querystring_auth=False).url("a.txt") == "https://cdn.example.com/a.txt"
        assert S3Storage(bucket_name="b", access_key="k", secret_key="s",
                         url_protocol="").url("a.txt").startswith("//cdn.example.com/a.txt?X-Amz-")


@pytest.mark.parametrize("cloudfront", [
    {"cloudfront_key": "-----BEGIN PRIVATE KEY-----", "cloudfront_key_id": "K1"},
    {"cloudfront_signer": object()},  # upstream's ready CloudFrontSigner signs custom-domain URLs too
])
def test_presigning_the_domain_and_cloudfront_signing_are_exclusive(cloudfront):
    with pytest.raises(ImproperlyConfigured, match="AWS_S3_CUSTOM_DOMAIN_PRESIGN and AWS_CLOUDFRONT_KEY"):
        S3Storage(bucket_name="b", custom_domain="d.cloudfront.net", custom_domain_presign=True, **cloudfront)


@pytest.mark.parametrize("options", [{}, {"custom_domain": "cdn.example.com", "custom_domain_presign": True}])
def test_url_and_direct_upload_make_no_request(proxied, proxy, options):
    storage = proxied(**options)
    with proxy.counting() as counter:
        assert storage.url("a.txt").startswith("http")
        assert storage.direct_upload("a.txt", max_size=10).fields["key"] == "a.txt"
    assert counter.count == 0


def test_the_post_carries_the_object_parameters(make_storage, s3_emulator):
    storage = make_storage(default_acl="public-read", encryption=True, location="media", object_parameters={
        "CacheControl": "max-age=60", "Metadata": {"owner": "ada"}, "ContentDisposition": "inline"})
    grant = storage.direct_upload("pics/cat.png", max_size=100)
    assert grant.fields["key"] == "media/pics/cat.png" and grant.fields["Content-Type"] == "image/png"
    assert grant.fields["acl"] == "public-read" and grant.fields["x-amz-meta-owner"] == "ada"
    # moto ignores the encryption field of a POST (S3 applies it); the policy still pins it.
    assert grant.fields["x-amz-server-side-encryption"] == "AES256"
    assert send_direct_upload(grant.as_dict(), b"\x89PNG")[0] == 204
    head = s3_emulator.client().head_object(Bucket=make_storage.bucket, Key="media/pics/cat.png")
    assert (head["CacheControl"], head["Metadata"], head["ContentDisposition"]) \
        == ("max-age=60", {"owner": "ada"}, "inline")
    public = make_storage(querystring_auth=False, location="media").url("pics/cat.png")
    assert requests.get(public, timeout=10).content == b"\x89PNG"  # the ACL came with the form
    for field, value in (("acl", "private"), ("x-amz-server-side-encryption", "aws:kms")):
        fields = {**grant.fields, field: value}  # a client cannot change what the policy fixed
        assert send_direct_upload(grant.as_dict(), b"x", fields=fields)[0] == 403, field


def test_parameters_a_post_cannot_carry_are_named(make_storage):
    storage = make_storage(object_parameters={"ChecksumAlgorithm": "SHA256"})
    with pytest.raises(ImproperlyConfigured, match="'ChecksumAlgorithm' cannot be set by a direct upload"):
        storage.direct_upload("a.txt")


def test_the_post_goes_to_the_presigned_custom_domain(make_storage, s3_emulator, bucket_host):
    storage = make_storage(custom_domain=bucket_host, custom_domain_presign=True, url_protocol="http:",
                           addressing_style="virtual")
    grant = storage.direct_upload("up.txt", max_size=5)
    assert grant.url == f"http://{bucket_host}/"
    request = requests.Request("POST", f"{s3_emulator.endpoint}/", data=grant.fields,
                               files={"file": ("up.txt", b"12345", "text/plain")}).prepare()
    request.headers["Host"] = bucket_host
    with requests.Session() as session:
        assert session.send(request, timeout=10).status_code == 204
    assert make_storage().open("up.txt").read() == b"12345"
    path_style = make_storage(custom_domain=f"localhost:{s3_emulator.port}", custom_domain_presign=True,
                              url_protocol="http:")
    grant = path_style.direct_upload("p.txt")
    assert grant.url == f"http://localhost:{s3_emulator.port}/{make_storage.bucket}"
    assert send_direct_upload(grant.as_dict(), b"path")[0] == 204
    assert path_style.open("p.txt").read() == b"path"
