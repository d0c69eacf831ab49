"""url(): V4 signed URLs (checked against the key, fetched from the emulator) and public URLs."""

import binascii
import hashlib
import urllib.request
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from emulators.gcs import service_account_info


def _fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def assert_signed_by_emulator_key(url):
    """Recompute the V4 string-to-sign from the URL and check its RSA signature."""
    parts = urlsplit(url)
    query, _, signature = parts.query.rpartition("&X-Goog-Signature=")
    params = {k: v[0] for k, v in parse_qs(query).items()}
    signed_headers = params["X-Goog-SignedHeaders"]
    assert signed_headers == "host"
    canonical_request = "\n".join([
        "GET", parts.path, query, f"host:{parts.netloc}\n", signed_headers, "UNSIGNED-PAYLOAD"])
    scope = params["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join([
        "GOOG4-RSA-SHA256", params["X-Goog-Date"], scope,
        hashlib.sha256(canonical_request.encode()).hexdigest()])
    key = serialization.load_pem_private_key(service_account_info()["private_key"].encode(), None)
    key.public_key().verify(binascii.unhexlify(signature), string_to_sign.encode(),
                            padding.PKCS1v15(), hashes.SHA256())  # raises if it does not match
    return params


def test_signed_url_shape_signature_and_bytes(make_storage):
    storage = make_storage(expiration=timedelta(minutes=10))
    storage.save("docs/ü report.txt", ContentFile(b"signed bytes"))
    url = storage.url("docs/ü report.txt")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == storage.emulator_host
    assert unquote(parts.path) == f"/{make_storage.bucket_name}/docs/ü report.txt"
    params = assert_signed_by_emulator_key(url)
    assert params["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert params["X-Goog-Expires"] == "600"
    assert params["X-Goog-Credential"].startswith(service_account_info()["client_email"] + "/")
    signed_at = datetime.strptime(params["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert abs(signed_at - datetime.now(timezone.utc)) < timedelta(minutes=2)
    assert _fetch(url) == b"signed bytes"


def test_url_parameters_override_defaults(make_storage):
    storage = make_storage()
    storage.save("p.txt", ContentFile(b"p"))
    url = storage.url("p.txt", parameters={"expiration": timedelta(seconds=60),
                                           "response_disposition": "attachment"})
    params = assert_signed_by_emulator_key(url)
    assert params["X-Goog-Expires"] == "60"
    assert params["response-content-disposition"] == "attachment"


def test_signed_url_under_location(make_storage):
    storage = make_storage(location="media")
    storage.save("a.txt", ContentFile(b"located"))
    url = storage.url("a.txt")
    assert urlsplit(url).path == f"/{make_storage.bucket_name}/media/a.txt"
    assert _fetch(url) == b"located"


def test_custom_endpoint_is_bucket_bound(make_storage):
    storage = make_storage(custom_endpoint="https://cdn.example.com/")
    signed = storage.url("img/a b.png")
    assert signed.startswith("https://cdn.example.com/img/a%20b.png?")
    assert_signed_by_emulator_key(signed)
    public = make_storage(custom_endpoint="https://cdn.example.com", querystring_auth=False)
    assert public.url("img/a b.png") == "https://cdn.example.com/img/a%20b.png"


@pytest.mark.parametrize("options", [
    {"querystring_auth": False},
    {"default_acl": "publicRead"},
    {"object_parameters": {"acl": "publicRead"}},
], ids=["querystring-auth-off", "default-acl", "object-parameter-acl"])
def test_public_urls(make_storage, options):
    storage = make_storage(**options)
    storage.save("pub.txt", ContentFile(b"public bytes"))
    url = storage.url("pub.txt")
    assert url == f"{storage.emulator_host}/{make_storage.bucket_name}/pub.txt"
    assert _fetch(url) == b"public bytes"


def test_public_url_for_real_gcs_needs_no_client():
    from storages.backends.gcloud import GoogleCloudStorage

    storage = GoogleCloudStorage(bucket_name="my-bucket", querystring_auth=False, emulator_host=None)
    assert storage.url("a/ü.txt") == "https://storage.googleapis.com/my-bucket/a/%C3%BC.txt"


def test_credentials_that_cannot_sign_are_explained(make_storage):
    storage = make_storage(credentials=None)
    with pytest.raises(ImproperlyConfigured, match="GS_CREDENTIALS.*GS_IAM_SIGN_BLOB.*GS_QUERYSTRING_AUTH"):
        storage.url("x.txt")


def test_iam_sign_blob_parameters(make_storage):
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

    sa = service_account.Credentials.from_service_account_info(service_account_info())
    sa.token = "token-from-metadata"
    storage = make_storage(credentials=sa, iam_sign_blob=True)
    assert storage._iam_sign_params() == {"service_account_email": service_account_info()["client_email"],
                                          "access_token": "token-from-metadata"}
    storage = make_storage(credentials=sa, iam_sign_blob=True, sa_email="other@p.iam.gserviceaccount.com")
    assert storage._iam_sign_params()["service_account_email"] == "other@p.iam.gserviceaccount.com"
    user = user_credentials.Credentials(token="user-token")
    with pytest.raises(ImproperlyConfigured, match="GS_SA_EMAIL"):
        make_storage(credentials=user, iam_sign_blob=True)._iam_sign_params()
