"""The S3 and GCS emulators refuse presigned URLs and POST policies the real services refuse.

Every URL here is fetched over HTTP from the emulator: a valid one gets 200, a tampered,
expired or wrongly signed one the service's own error.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from django.core.files.base import ContentFile


def fetch(url: str, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": ""} if data is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def code(body: bytes) -> str:
    return ET.fromstring(body).findtext("Code") or ""


def with_param(url: str, name: str, value: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query[name] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def flip(signature: str) -> str:
    return signature[:-1] + ("0" if signature[-1] != "0" else "1")


# -- S3 -------------------------------------------------------------------------------------------

@pytest.fixture
def s3(s3_emulator):
    """(boto3 client signing V4, one signing V2, bucket) with an object ``k.txt`` in the bucket."""
    import boto3
    from botocore.config import Config

    bucket = s3_emulator.new_namespace()["bucket_name"]

    def client(version):
        return boto3.client("s3", endpoint_url=s3_emulator.endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1",
                            config=Config(signature_version=version, s3={"addressing_style": "path"}))

    v4, v2 = client("s3v4"), client("s3")
    v4.put_object(Bucket=bucket, Key="k.txt", Body=b"signed bytes")
    return v4, v2, bucket


@pytest.mark.parametrize("version", ["v4", "v2"])
def test_valid_presigned_urls_are_served(s3, version):
    v4, v2, bucket = s3
    client = v4 if version == "v4" else v2
    url = client.generate_presigned_url("get_object", {"Bucket": bucket, "Key": "k.txt"}, ExpiresIn=60)
    assert fetch(url) == (200, b"signed bytes")
    put = client.generate_presigned_url("put_object", {"Bucket": bucket, "Key": "up.txt"}, ExpiresIn=60)
    assert fetch(put, "PUT", b"uploaded")[0] == 200
    assert v4.get_object(Bucket=bucket, Key="up.txt")["Body"].read() == b"uploaded"


@pytest.mark.parametrize("version, signature", [("v4", "X-Amz-Signature"), ("v2", "Signature")])
def test_tampered_presigned_urls_are_refused(s3, version, signature):
    v4, v2, bucket = s3
    client = v4 if version == "v4" else v2
    url = client.generate_presigned_url("get_object", {"Bucket": bucket, "Key": "k.txt"}, ExpiresIn=60)
    signed = dict(parse_qsl(urlsplit(url).query))[signature]
    for tampered in (with_param(url, signature, flip(signed)),  # a forged signature
                     url.replace("/k.txt?", "/other.txt?"),  # another object
                     with_param(url, "response-content-type", "text/html")):  # an added sub-resource
        status, body = fetch(tampered)
        assert (status, code(body)) == (403, "SignatureDoesNotMatch")
    put = client.generate_presigned_url("put_object", {"Bucket": bucket, "Key": "k.txt"}, ExpiresIn=60)
    status, body = fetch(put)  # a PUT URL used for GET
    assert (status, code(body)) == (403, "SignatureDoesNotMatch")


def test_a_longer_life_cannot_be_written_into_a_v4_url(s3):
    v4, _, bucket = s3
    url = v4.generate_presigned_url("get_object", {"Bucket": bucket, "Key": "k.txt"}, ExpiresIn=60)
    status, body = fetch(with_param(url, "X-Amz-Expires", "3600"))
    assert (status, code(body)) == (403, "SignatureDoesNotMatch")
    status, body = fetch(with_param(url, "X-Amz-Expires", "700000"))
    assert (status, code(body)) == (400, "AuthorizationQueryParametersError")


def test_expired_presigned_urls_are_refused(s3, s3_emulator, monkeypatch):
    v4, v2, bucket = s3
    params = {"Bucket": bucket, "Key": "k.txt"}
    v4_url = v4.generate_presigned_url("get_object", params, ExpiresIn=60)
    v2_url = v2.generate_presigned_url("get_object", params, ExpiresIn=60)
    assert fetch(v4_url)[0] == fetch(v2_url)[0] == 200
    later = time.time() + 61
    monkeypatch.setattr(s3_emulator.front.verifier, "now", lambda: later)  # the emulator's clock moves on
    for url in (v4_url, v2_url):
        status, body = fetch(url)
        assert (status, code(body)) == (403, "AccessDenied") and b"Request has expired" in body


def test_a_url_expires_in_real_time(s3):
    v4, _, bucket = s3
    # X-Amz-Date has whole seconds: a URL signed late in a second lives 1-2 s of ExpiresIn=2.
    url = v4.generate_presigned_url("get_object", {"Bucket": bucket, "Key": "k.txt"}, ExpiresIn=2)
    assert fetch(url)[0] == 200
    time.sleep(2.5)
    status, body = fetch(url)
    assert (status, code(body)) == (403, "AccessDenied")


def test_unknown_access_keys_are_refused_until_added(s3, s3_emulator, monkeypatch):
    import boto3

    _, _, bucket = s3
    stranger = boto3.client("s3", endpoint_url=s3_emulator.endpoint, aws_access_key_id="AKIDSTRANGER",
                            aws_secret_access_key="their-secret", region_name="us-east-1")
    url = stranger.generate_presigned_url("get_object", {"Bucket": bucket, "Key": "k.txt"})
    status, body = fetch(url)
    assert (status, code(body)) == (403, "InvalidAccessKeyId")
    monkeypatch.setitem(s3_emulator.credentials, "AKIDSTRANGER", "their-secret")
    assert fetch(url) == (200, b"signed bytes")


def test_our_backends_url_is_checked_like_s3(s3_emulator):
    from storages.backends.s3 import S3Storage

    for version in ("s3v4", "s3"):
        storage = S3Storage(**s3_emulator.new_namespace(), signature_version=version)
        storage.save("doc.txt", ContentFile(b"doc"))
        url = storage.url("doc.txt")
        assert fetch(url) == (200, b"doc")
        name = "X-Amz-Signature" if version == "s3v4" else "Signature"
        signature = dict(parse_qsl(urlsplit(url).query))[name]
        assert fetch(with_param(url, name, flip(signature)))[0] == 403


@pytest.mark.parametrize("version", ["v4", "v2"])
def test_presigned_post_policies_are_enforced(s3, version):
    v4, v2, bucket = s3
    client = v4 if version == "v4" else v2
    post = client.generate_presigned_post(
        bucket, "uploads/${filename}", Fields={"success_action_status": "201"},
        Conditions=[["starts-with", "$key", "uploads/"], {"success_action_status": "201"},
                    ["content-length-range", 1, 1000]], ExpiresIn=60)

    def submit(fields=None, data=b"posted", filename="a.txt"):
        response = requests.post(post["url"], data={**post["fields"], **(fields or {})},
                                 files={"file": (filename, data)}, timeout=10)
        return response.status_code, response.content

    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if "content-length-range" not in c]
    loosened = base64.b64encode(json.dumps(policy).encode()).decode()
    assert submit()[0] == 201
    assert v4.get_object(Bucket=bucket, Key="uploads/a.txt")["Body"].read() == b"posted"
    refused = {
        "key outside the policy": submit({"key": "elsewhere/a.txt"}),
        "a field the policy does not list": submit({"Content-Type": "text/html"}),
        "a loosened policy": submit({"policy": loosened}),
    }
    for reason, (status, body) in refused.items():
        assert status == 403, reason
        assert code(body) in ("AccessDenied", "SignatureDoesNotMatch"), reason
    status, body = submit(data=b"x" * 1001)
    assert (status, code(body)) == (400, "EntityTooLarge")


def test_expired_post_policy_is_refused(s3, s3_emulator, monkeypatch):
    v4, _, bucket = s3
    post = v4.generate_presigned_post(bucket, "late.txt", ExpiresIn=60)
    later = time.time() + 120
    monkeypatch.setattr(s3_emulator.front.verifier, "now", lambda: later)
    response = requests.post(post["url"], data=post["fields"], files={"file": ("late.txt", b"x")}, timeout=10)
    assert response.status_code == 403 and b"Policy expired" in response.content


# -- GCS ------------------------------------------------------------------------------------------

@pytest.fixture
def gcs_storage(gcs_emulator):
    from storages.backends.gcloud import GoogleCloudStorage

    storage = GoogleCloudStorage(**gcs_emulator.new_namespace())
    storage.save("docs/ü a.txt", ContentFile(b"signed bytes"))
    return storage


def test_gcs_valid_v4_url_is_served_and_tampered_ones_refused(gcs_storage):
    url = gcs_storage.url("docs/ü a.txt")
    assert fetch(url) == (200, b"signed bytes")
    signature = dict(parse_qsl(urlsplit(url).query))["X-Goog-Signature"]
    for tampered in (with_param(url, "X-Goog-Signature", flip(signature)),
                     url.replace("/docs/", "/other/"),
                     with_param(url, "X-Goog-Expires", "604800")):
        status, body = fetch(tampered)
        assert (status, code(body)) == (403, "SignatureDoesNotMatch")


def test_gcs_expired_url_is_refused_as_gcs_does(gcs_storage, gcs_emulator, monkeypatch):
    url = gcs_storage.url("docs/ü a.txt", parameters={"expiration": dt.timedelta(seconds=60)})
    assert fetch(url)[0] == 200
    later = time.time() + 61
    monkeypatch.setattr(gcs_emulator.front.verifier, "now", lambda: later)
    status, body = fetch(url)
    assert (status, code(body)) == (400, "ExpiredToken")  # GCS answers an expired V4 URL with 400


def test_gcs_url_signed_by_an_unknown_account_is_refused_until_added(gcs_storage, gcs_emulator, monkeypatch):
    from google.oauth2 import service_account

    from emulators.gcs import service_account_info

    # A second, different key (service_account_info() is cached: call the function under it).
    other = {**service_account_info.__wrapped__(), "client_email": "other@p.iam.gserviceaccount.com"}
    blob = gcs_storage.bucket.blob("docs/ü a.txt")
    url = blob.generate_signed_url(version="v4", expiration=dt.timedelta(minutes=1),
                                   api_access_endpoint=gcs_emulator.endpoint,
                                   credentials=service_account.Credentials.from_service_account_info(other))
    status, body = fetch(url)
    assert (status, code(body)) == (403, "SignatureDoesNotMatch")
    monkeypatch.setattr(gcs_emulator, "service_accounts", dict(gcs_emulator.service_accounts))
    monkeypatch.setattr(gcs_emulator.front.verifier, "accounts", gcs_emulator.service_accounts)
    gcs_emulator.add_service_account(other)
    assert fetch(url) == (200, b"signed bytes")


def test_gcs_v2_signed_urls(gcs_storage, gcs_emulator):
    from google.oauth2 import service_account

    from emulators.gcs import service_account_info

    credentials = service_account.Credentials.from_service_account_info(service_account_info())
    url = gcs_storage.bucket.blob("docs/ü a.txt").generate_signed_url(
        version="v2", expiration=dt.timedelta(minutes=1), api_access_endpoint=gcs_emulator.endpoint,
        credentials=credentials)
    assert "GoogleAccessId=" in url and fetch(url) == (200, b"signed bytes")
    signature = dict(parse_qsl(urlsplit(url).query))["Signature"]
    forged = ("B" if signature[0] == "A" else "A") + signature[1:]  # always a different first character
    status, body = fetch(with_param(url, "Signature", forged))
    assert (status, code(body)) == (403, "SignatureDoesNotMatch")
    expired = gcs_storage.bucket.blob("docs/ü a.txt").generate_signed_url(
        version="v2", expiration=int(time.time()) - 5, api_access_endpoint=gcs_emulator.endpoint,
        credentials=credentials)
    status, body = fetch(expired)
    assert (status, code(body)) == (400, "ExpiredToken")


def test_the_refusal_is_reported_as_a_call(gcs_storage, storage_requests):
    url = gcs_storage.url("docs/ü a.txt")
    fetch(with_param(url, "X-Goog-Signature", "00"))
    (call,) = storage_requests.filter("get")
    assert (call.status, call.key, call.fault) == (403, "docs/ü a.txt", None)
    assert json.dumps(call.request)  # the raw request line is kept for the report
