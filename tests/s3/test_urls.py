"""S3Storage.url(): query-string auth, signatures, addressing, custom domains, CloudFront, client config."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from emulators.s3 import SECRET_KEY
from storages.backends.s3 import S3Storage
from storages.core import StorageError

from .signing import verify_sigv2, verify_sigv4


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[bytes, dict[str, str]]:
    headers = {"Content-Type": ""} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read(), dict(response.headers)


def test_signed_url_by_default_carries_signature_and_expiry_and_fetches(make_storage):
    storage = make_storage()
    storage.save("docs/a b.txt", ContentFile(b"signed bytes"))
    url = storage.url("docs/a b.txt")
    params = verify_sigv2(url, SECRET_KEY, make_storage.bucket)
    assert params["AWSAccessKeyId"] == "testing"
    assert abs(int(params["Expires"]) - (time.time() + 3600)) < 60
    assert urlsplit(url).path.endswith("/docs/a%20b.txt")
    assert fetch(url)[0] == b"signed bytes"


def test_querystring_expire_setting(make_storage):
    storage = make_storage()
    storage.save("a.txt", ContentFile(b"a"))
    with override_settings(AWS_QUERYSTRING_EXPIRE=120):
        params = verify_sigv2(storage.url("a.txt"), SECRET_KEY, make_storage.bucket)
        assert abs(int(params["Expires"]) - (time.time() + 120)) < 30
        v4 = make_storage(signature_version="s3v4").url("a.txt")
        assert verify_sigv4(v4, SECRET_KEY)["X-Amz-Expires"] == "120"  # signed, so it cannot be edited
        assert fetch(v4)[0] == b"a"


def test_querystring_auth_off_gives_a_plain_url(make_storage):
    storage = make_storage(querystring_auth=False, default_acl="public-read")
    storage.save("public.txt", ContentFile(b"public"))
    url = storage.url("public.txt")
    assert urlsplit(url).query == ""
    assert url.endswith(f"/{make_storage.bucket}/public.txt")
    assert fetch(url)[0] == b"public"
    # Without an ACL objects are private: the plain URL is refused, a signed one works.
    make_storage().save("private.txt", ContentFile(b"private"))
    with pytest.raises(urllib.error.HTTPError) as info:
        fetch(storage.url("private.txt"))
    assert info.value.code == 403
    assert fetch(make_storage().url("private.txt"))[0] == b"private"
    with override_settings(AWS_QUERYSTRING_AUTH=False):
        assert urlsplit(make_storage().url("public.txt")).query == ""


def test_url_parameters_expire_and_http_method(make_storage):
    storage = make_storage(signature_version="s3v4")
    storage.save("report.pdf", ContentFile(b"%PDF"))
    url = storage.url("report.pdf", parameters={"ResponseContentDisposition": 'attachment; filename="r.pdf"'},
                      expire=42)
    assert verify_sigv4(url, SECRET_KEY)["X-Amz-Expires"] == "42"
    assert query(url)["response-content-disposition"] == 'attachment; filename="r.pdf"'
    body, headers = fetch(url)
    assert body == b"%PDF" and headers["Content-Disposition"] == 'attachment; filename="r.pdf"'
    put_url = storage.url("uploaded.txt", http_method="PUT", expire=60)
    verify_sigv4(put_url, SECRET_KEY, method="PUT")
    with pytest.raises(AssertionError):
        verify_sigv4(put_url, SECRET_KEY, method="GET")
    fetch(put_url, "PUT", b"put through a presigned url")
    assert storage.open("uploaded.txt").read() == b"put through a presigned url"


def test_signature_version_s3v4(make_storage):
    storage = make_storage()
    storage.save("v4.txt", ContentFile(b"v4"))
    with override_settings(AWS_S3_SIGNATURE_VERSION="s3v4"):
        url = make_storage().url("v4.txt")
    params = verify_sigv4(url, SECRET_KEY)
    assert "AWSAccessKeyId" not in params
    with pytest.raises(AssertionError):
        verify_sigv4(url, "not-the-secret")
    assert fetch(url)[0] == b"v4"
    assert "AWSAccessKeyId" in query(make_storage(signature_version="s3").url("v4.txt"))


@pytest.mark.parametrize("style, expected", [
    ("path", "http://s3.example.test/media-bucket/a.txt"),
    ("virtual", "http://media-bucket.s3.example.test/a.txt"),
])
def test_addressing_style_shapes_the_url(style, expected):
    storage = S3Storage(bucket_name="media-bucket", endpoint_url="http://s3.example.test", access_key="k",
                        secret_key="s", addressing_style=style, querystring_auth=False)
    assert storage.url("a.txt") == expected
    with override_settings(AWS_S3_ADDRESSING_STYLE=style):
        signed = S3Storage(bucket_name="media-bucket", endpoint_url="http://s3.example.test",
                           access_key="k", secret_key="s")
        assert signed.url("a.txt").split("?")[0] == expected


def test_session_token_is_sent_in_v4_urls(make_storage):
    storage = make_storage(signature_version="s3v4")
    storage.save("t.txt", ContentFile(b"token"))
    with override_settings(AWS_SESSION_TOKEN="SESSIONTOKEN123"):
        url = make_storage(signature_version="s3v4").url("t.txt")
    assert verify_sigv4(url, SECRET_KEY)["X-Amz-Security-Token"] == "SESSIONTOKEN123"
    assert fetch(url)[0] == b"token"
    assert "X-Amz-Security-Token" not in query(storage.url("t.txt"))


def test_session_profile_from_aws_config_files(monkeypatch, tmp_path, make_storage, s3_emulator):
    # The emulator checks presigned URLs like S3: it must know the profile's key pair.
    monkeypatch.setitem(s3_emulator.credentials, "AKIDPROFILE", "profilesecret")
    config = tmp_path / "config"
    credentials = tmp_path / "credentials"
    config.write_text("[profile emulated]\nregion = eu-west-2\n")
    credentials.write_text(
        "[emulated]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profilesecret\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    with override_settings(AWS_S3_SESSION_PROFILE="emulated"):
        storage = make_storage(access_key=None, secret_key=None, region_name=None, signature_version="s3v4")
        assert storage.session_profile == "emulated"
        storage.save("profile.txt", ContentFile(b"via profile"))
        assert storage.open("profile.txt").read() == b"via profile"
        assert storage.connection.meta.client.meta.region_name == "eu-west-2"
        url = storage.url("profile.txt")
    access_key, _, region, _, _ = verify_sigv4(url, "profilesecret")["X-Amz-Credential"].split("/")
    assert (access_key, region) == ("AKIDPROFILE", "eu-west-2")
    assert fetch(url)[0] == b"via profile"


def test_transfer_config_sets_part_size_and_concurrency(proxied, proxy):
    chunk = 5 * 1024 * 1024
    storage = proxied(transfer_config=TransferConfig(multipart_chunksize=chunk, max_concurrency=3))
    assert storage.part_size == chunk and storage.max_concurrency == 3
    assert proxied().part_size == 8 * 1024 * 1024  # the default
    assert proxied(transfer_config=TransferConfig(multipart_chunksize=1024)).part_size == chunk  # S3 minimum
    data = bytes(2 * chunk + 1)
    # Each part is held 2 s by the proxy. Sent one at a time, the second part could only
    # arrive 2 s after the first; sent concurrently, all three arrive at once.
    proxy.inject(method="PUT", path_contains="partNumber=", times=3, stall=2.0)
    saver = threading.Thread(target=storage.save, args=("three-parts.bin", ContentFile(data)))
    saver.start()
    first_seen = None
    arrived_together = 0
    while saver.is_alive():
        parts = [path for method, path in proxy.requests if method == "PUT" and "partNumber=" in path]
        now = time.monotonic()
        if parts and first_seen is None:
            first_seen = now
        if first_seen is not None and now - first_seen < 1.0:
            arrived_together = len(parts)
        time.sleep(0.01)
    saver.join()
    parts = [path for method, path in proxy.requests if method == "PUT" and "partNumber=" in path]
    assert len(parts) == 3  # 5 MiB + 5 MiB + 1 byte
    assert arrived_together == 3, "the parts were not uploaded concurrently"
    assert storage.size("three-parts.bin") == len(data)


def test_client_config_is_merged(make_storage):
    user = Config(user_agent_extra="myapp/1.0", signature_version="s3v4", max_pool_connections=7,
                  retries={"max_attempts": 2}, s3={"payload_signing_enabled": True})
    storage = make_storage(client_config=user)
    config = storage.connection.meta.client.meta.config
    assert config.user_agent_extra == "myapp/1.0"
    assert config.max_pool_connections == 7
    assert config.s3 == {"payload_signing_enabled": True, "addressing_style": "path"}  # both kept
    assert "X-Amz-Algorithm" in query(storage.url("a.txt"))  # the config's signature version is kept
    # An explicitly set storage option wins over the client config.
    assert "AWSAccessKeyId" in query(make_storage(client_config=user, signature_version="s3").url("a.txt"))
    with override_settings(AWS_S3_CLIENT_CONFIG=Config(user_agent_extra="from-settings")):
        assert make_storage().connection.meta.client.meta.config.user_agent_extra == "from-settings"
    storage.save("ua.txt", ContentFile(b"ok"))  # and the client works
    assert storage.exists("ua.txt")


@pytest.mark.parametrize("options", [
    {}, {"querystring_auth": False}, {"signature_version": "s3v4"}, {"custom_domain": "cdn.example.com"},
])
def test_url_makes_no_request(proxied, proxy, options):
    storage = proxied(**options)
    with proxy.counting() as counter:
        for name in ("a.txt", "dir/b c.txt"):
            assert storage.url(name).startswith(("http://", "https://"))
    assert counter.count == 0


def test_custom_domain_setting_and_kwarg_and_url_protocol():
    with override_settings(AWS_S3_CUSTOM_DOMAIN="cdn.example.com", AWS_LOCATION="media"):
        storage = S3Storage(bucket_name="b")
        assert storage.url("img/a b.png") == "https://cdn.example.com/media/img/a%20b.png"
        # A second storage served from another domain, through the constructor.
        other = S3Storage(bucket_name="b", custom_domain="static.example.com", location="")
        assert other.url("app.js") == "https://static.example.com/app.js"
        with override_settings(AWS_S3_URL_PROTOCOL="http:"):
            assert storage.url("x.css") == "http://cdn.example.com/media/x.css"


def test_custom_domain_urls_are_unsigned_and_pass_parameters_through():
    storage = S3Storage(bucket_name="b", custom_domain="cdn.example.com", url_protocol="")
    assert storage.url("a.txt") == "//cdn.example.com/a.txt"  # protocol-relative
    assert urlsplit(S3Storage(bucket_name="b", custom_domain="cdn.example.com").url("a.txt")).query == ""
    assert storage.url("a.txt", parameters={"v": "2", "x": "a b"}) == "//cdn.example.com/a.txt?v=2&x=a+b"


def _cloudfront_b64decode(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


def verify_canned_policy(key, resource: str, expires: int, signature: str) -> None:
    """Check a CloudFront canned-policy signature with the public key (raises if wrong)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    policy = json.dumps({"Statement": [{"Resource": resource,
                                        "Condition": {"DateLessThan": {"AWS:EpochTime": expires}}}]},
                        separators=(",", ":")).encode()
    key.public_key().verify(_cloudfront_b64decode(signature), policy, padding.PKCS1v15(), hashes.SHA1())


@pytest.fixture(scope="module")
def cloudfront_key():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    return key, pem


def test_cloudfront_signed_urls_verify_with_the_public_key(cloudfront_key):
    key, pem = cloudfront_key
    with override_settings(AWS_S3_CUSTOM_DOMAIN="d111.cloudfront.net", AWS_CLOUDFRONT_KEY=pem.decode(),
                           AWS_CLOUDFRONT_KEY_ID="K2JCJMDEHXQW5F", AWS_QUERYSTRING_EXPIRE=600):
        storage = S3Storage(bucket_name="b")
        url = storage.url("private/a b.pdf")
    resource, _, _ = url.partition("?")
    assert resource == "https://d111.cloudfront.net/private/a%20b.pdf"
    params = query(url)
    assert params["Key-Pair-Id"] == "K2JCJMDEHXQW5F"
    expires = int(params["Expires"])
    assert abs(expires - (time.time() + 600)) < 30
    verify_canned_policy(key, resource, expires, params["Signature"])
    # Parameters are part of the signed resource.
    with_params = S3Storage(bucket_name="b", custom_domain="d111.cloudfront.net", cloudfront_key=pem,
                            cloudfront_key_id="K2JCJMDEHXQW5F").url("x", parameters={"v": "3"})
    assert with_params.startswith("https://d111.cloudfront.net/x?v=3&Expires=")
    signed_params = query(with_params)
    verify_canned_policy(key, "https://d111.cloudfront.net/x?v=3", int(signed_params["Expires"]),
                         signed_params["Signature"])
    # Bytes keys work too; the expiry follows url(expire=...).
    signed = S3Storage(bucket_name="b", custom_domain="d111.cloudfront.net", cloudfront_key=pem,
                       cloudfront_key_id="K2JCJMDEHXQW5F").url("x", expire=60)
    assert abs(int(query(signed)["Expires"]) - (time.time() + 60)) < 30
    # With query-string auth off, CloudFront URLs are plain.
    plain = S3Storage(bucket_name="b", custom_domain="d111.cloudfront.net", cloudfront_key=pem,
                      cloudfront_key_id="K2JCJMDEHXQW5F", querystring_auth=False).url("x")
    assert plain == "https://d111.cloudfront.net/x"


def test_unknown_session_profile_is_improperly_configured(make_storage):
    from django.core.exceptions import ImproperlyConfigured

    storage = make_storage(access_key=None, secret_key=None, session_profile="no-such-profile")
    for call in (lambda: storage.exists("a.txt"), lambda: storage.url("a.txt")):
        with pytest.raises(ImproperlyConfigured, match="AWS_S3_SESSION_PROFILE 'no-such-profile'"):
            call()


def test_url_errors_are_django_and_python_errors(make_storage):
    """url() makes no request, but botocore and cryptography still refuse bad input."""
    generic = r"S3Storage failed on 'a.txt' at http://127.*ParamValidationError"
    with pytest.raises(StorageError, match=generic) as info:
        make_storage().url("a.txt", parameters={"NoSuchParameter": "x"})
    assert type(info.value.__cause__).__name__ == "ParamValidationError"
    not_a_key = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    storage = S3Storage(bucket_name="b", custom_domain="d111.cloudfront.net", cloudfront_key=not_a_key,
                        cloudfront_key_id="K2JCJMDEHXQW5F")
    with pytest.raises(ImproperlyConfigured, match="AWS_CLOUDFRONT_KEY is not an unencrypted PEM") as info:
        storage.url("a.txt")
    assert "bm90IGEga2V5" not in str(info.value)
