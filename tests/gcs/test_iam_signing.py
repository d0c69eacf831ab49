"""GS_IAM_SIGN_BLOB: URLs signed through IAM signBlob with the caller's OAuth token keep
being signed after the token expires (a long-running worker): the storage refreshes it.
Real google-auth and google-cloud-storage against emulators.gcs_iam's token endpoint and
signBlob API; the signed URLs are fetched from the GCS emulator, which checks them."""

from __future__ import annotations

import datetime
import urllib.request

import pytest
from django.core.files.base import ContentFile

from emulators.gcs import service_account_info
from emulators.gcs_iam import IAMFake


@pytest.fixture
def iam(monkeypatch):
    with IAMFake(service_account_info()) as fake:
        for name, value in fake.env.items():
            monkeypatch.setenv(name, value)
        yield fake


@pytest.fixture
def credentials(iam):
    from google.oauth2 import service_account

    return service_account.Credentials.from_service_account_info(
        {**service_account_info(), "token_uri": iam.token_uri},
        scopes=["https://www.googleapis.com/auth/cloud-platform"])


def _fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_iam_signing_refreshes_an_expired_token(make_storage, iam, credentials):
    storage = make_storage(credentials=credentials, iam_sign_blob=True)
    storage.save("report.txt", ContentFile(b"signed by IAM"))
    grants = iam.grants
    assert _fetch(storage.url("report.txt")) == b"signed by IAM"
    first = iam.signatures[-1]
    assert first[1] == 200
    assert _fetch(storage.url("report.txt")) == b"signed by IAM"
    assert iam.signatures[-1][0] == first[0]  # a valid token is reused, not refreshed per URL

    # An hour later: the token expired (google-auth knows from its expiry; IAM refuses it).
    iam.expire_tokens()
    credentials.expiry = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) \
        - datetime.timedelta(seconds=1)
    assert _fetch(storage.url("report.txt")) == b"signed by IAM"
    token, status = iam.signatures[-1]
    assert status == 200 and token != first[0]
    assert iam.grants > grants
    assert [status for _, status in iam.signatures] == [200] * len(iam.signatures)  # never sent a stale one
