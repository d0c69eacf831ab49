"""url(): plain and SAS URLs, fetched over HTTP(S) from Azurite, which checks signatures and expiry."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from storages.backends.azure_storage import AzureStorage


def test_sas_url_serves_the_bytes_and_honours_parameters(make_storage):
    storage = make_storage(expiration_secs=300)
    storage.save("dir/ü file.txt", ContentFile(b"signed bytes"))
    url = storage.url("dir/ü file.txt")
    query = parse_qs(urlsplit(url).query)
    assert query["sp"] == ["r"] and query["sr"] == ["b"] and "sig" in query
    expiry = datetime.fromisoformat(query["se"][0].replace("Z", "+00:00"))
    assert 250 < (expiry - datetime.now(timezone.utc)).total_seconds() <= 301
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"signed bytes"
    url = storage.url("dir/ü file.txt", parameters={"content_disposition": "attachment; filename=x.txt"})
    assert requests.get(url, timeout=10).headers["Content-Disposition"] == "attachment; filename=x.txt"


def test_expired_tampered_or_read_only_sas_is_refused(make_storage):
    storage = make_storage()
    storage.save("secret.txt", ContentFile(b"secret"))
    url = storage.url("secret.txt", expire=2)
    assert requests.get(url, timeout=10).content == b"secret"
    tampered = url.replace("sp=r", "sp=rw")
    assert requests.get(tampered, timeout=10).status_code == 403
    assert requests.put(url, data=b"overwrite", headers={"x-ms-blob-type": "BlockBlob"},
                        timeout=10).status_code == 403  # a read SAS cannot write
    time.sleep(3)
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 403 and b"secret" not in expired.content
    assert storage.open("secret.txt").read() == b"secret"


def test_write_mode_sas_allows_an_upload(make_storage):
    storage = make_storage()
    url = storage.url("upload.txt", expire=60, mode="cw")
    response = requests.put(url, data=b"uploaded", headers={"x-ms-blob-type": "BlockBlob"}, timeout=10)
    assert response.status_code == 201
    assert storage.open("upload.txt").read() == b"uploaded"


def test_without_expiry_the_url_is_plain(azure_emulator, make_storage):
    storage = make_storage(expiration_secs=None)
    storage.save("plain.txt", ContentFile(b"public"))
    url = storage.url("plain.txt")
    assert url == f"{azure_emulator.blob_endpoint}/{make_storage.container}/plain.txt"
    assert requests.get(url, timeout=10).status_code in (403, 404)  # a private container
    public = azure_emulator.new_container(public_access="blob")
    storage = make_storage(expiration_secs=0, azure_container=public)
    storage.save("plain.txt", ContentFile(b"public"))
    assert requests.get(storage.url("plain.txt"), timeout=10).content == b"public"


def test_custom_domain_is_the_url_host(azure_emulator, make_storage):
    storage = make_storage(custom_domain=f"127.0.0.1:{azure_emulator.port}/devstoreaccount1",
                           azure_ssl=False, location="static")
    storage.save("css/site.css", ContentFile(b"body{}"))
    url = storage.url("css/site.css")
    assert url.startswith(f"http://127.0.0.1:{azure_emulator.port}/devstoreaccount1/"
                          f"{make_storage.container}/static/css/site.css?")
    assert requests.get(url, timeout=10).content == b"body{}"
    assert AzureStorage(custom_domain="cdn.example.com", azure_container="media").url("a b.txt", expire=0) \
        == "https://cdn.example.com/media/a%20b.txt"


@pytest.fixture
def token_storage(azure_https_emulator):
    emulator = azure_https_emulator
    credential = emulator.token_credential()
    storage = AzureStorage(
        connection_string=f"BlobEndpoint={emulator.blob_endpoint};", token_credential=credential,
        azure_container=emulator.new_container(), expiration_secs=600,
        client_options={"connection_verify": emulator.ca_file})
    storage.save("delegated.txt", ContentFile(b"via token"))
    return storage, credential


def test_token_credential_signs_with_a_user_delegation_key(token_storage):
    """A token credential authenticates every call (bearer, over HTTPS) and url() signs with a
    user-delegation key Azurite issued for that token, fetched once and reused."""
    storage, credential = token_storage
    assert storage.open("delegated.txt").read() == b"via token"
    assert storage.listdir("") == ([], ["delegated.txt"])
    query = parse_qs(urlsplit(storage.url("delegated.txt")).query)
    assert query["skoid"] == [credential.object_id] and query["sktid"] == [credential.tenant_id]
    assert query["sp"] == ["r"] and "sig" in query and "ske" in query
    key = storage._delegation
    storage.url("other.txt", expire=60)
    assert storage._delegation is key  # reused: no second Get User Delegation Key
    with pytest.raises(ImproperlyConfigured, match="7 days"):
        storage.url("delegated.txt", expire=8 * 24 * 3600)


def test_get_user_delegation_key_is_upstreams_api(token_storage):
    """django-storages 1.14's get_user_delegation_key(expiry): naive UTC expiry, key reused."""
    storage, credential = token_storage
    expiry = datetime.utcnow() + timedelta(hours=1)
    key = storage.get_user_delegation_key(expiry)
    assert key.signed_oid == credential.object_id and key.value
    assert storage.get_user_delegation_key(expiry - timedelta(minutes=5)) is key


def test_user_delegation_sas_is_checked_by_azurite(azure_https_emulator, token_storage):
    storage, _ = token_storage
    emulator = azure_https_emulator
    url = storage.url("delegated.txt")
    signed_version = parse_qs(urlsplit(url).query)["sv"][0]
    if emulator.api_version and signed_version > emulator.api_version:
        pytest.skip(f"azure-storage-blob signs user-delegation SAS as version {signed_version}, whose "
                    f"string-to-sign Azurite (API {emulator.api_version}) predates; it refuses such SAS")
    assert requests.get(url, verify=emulator.ca_file, timeout=10).content == b"via token"
    expired = storage.url("delegated.txt", expire=1)
    time.sleep(2.5)
    assert requests.get(expired, verify=emulator.ca_file, timeout=10).status_code == 403


def test_no_credential_is_refused_and_says_where(azure_https_emulator):
    """An endpoint without any credential: anonymous calls on a private container are refused."""
    emulator = azure_https_emulator
    storage = AzureStorage(connection_string=f"BlobEndpoint={emulator.blob_endpoint};",
                           azure_container="storages-dev",
                           client_options={"connection_verify": emulator.ca_file})
    with pytest.raises(PermissionError, match="AuthorizationFailure") as info:
        storage.open("anything.txt")
    assert f"{emulator.blob_endpoint}/storages-dev" in str(info.value)
