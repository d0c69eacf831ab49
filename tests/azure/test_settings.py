"""AzureStorage settings (upstream names and meanings) and the errors bad input gets."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.test import override_settings

from storages.backends.azure_storage import AzureStorage


def test_defaults_match_upstream():
    storage = AzureStorage()
    assert storage.file_overwrite is False
    assert storage.azure_ssl is True
    assert storage.endpoint_suffix == "core.windows.net"
    assert storage.upload_max_conn == 2
    assert storage.timeout == 20
    assert storage.max_memory_size == 4 * 1024 * 1024  # not upstream's 2 MiB: the SDK's block size
    assert storage.part_size == storage.max_memory_size
    assert storage.expiration_secs is None
    assert storage.location == ""
    assert storage.object_parameters == {} and storage.client_options == {}


def test_django_settings_are_read_and_follow_override_settings(azure_emulator, make_storage):
    with override_settings(AZURE_CONNECTION_STRING=azure_emulator.connection_string,
                           AZURE_CONTAINER=make_storage.container, AZURE_LOCATION="/media/",
                           AZURE_OVERWRITE_FILES=True, AZURE_URL_EXPIRATION_SECS=60):
        storage = AzureStorage()
        assert (storage.location, storage.file_overwrite, storage.expiration_secs) == ("media", True, 60)
        assert storage.save("a.txt", ContentFile(b"1")) == "a.txt"
        assert storage.save("a.txt", ContentFile(b"2")) == "a.txt"  # overwritten, same name
        with override_settings(AZURE_LOCATION="other"):
            assert storage.location == "other"
            assert not storage.exists("a.txt")
        assert storage.open("a.txt").read() == b"2"
    raw = azure_emulator.service_client().get_container_client(make_storage.container)
    assert [b.name for b in raw.list_blobs()] == ["media/a.txt"]


def test_overwrite_files_is_an_alias_of_file_overwrite(make_storage):
    storage = make_storage(overwrite_files=True)
    assert storage.file_overwrite is True
    storage.save("x", ContentFile(b"1"))
    assert storage.save("x", ContentFile(b"2")) == "x"


def test_account_key_settings_reach_the_production_style_endpoint(azure_emulator, make_storage):
    """AZURE_ACCOUNT_NAME/KEY + AZURE_SSL=False build http://<account>.blob.<suffix>; Azurite
    serves that host when it is used as the HTTP proxy, so the real request path is exercised."""
    proxies = {"http": azure_emulator.endpoint}
    storage = AzureStorage(account_name=azure_emulator.account_name, account_key=azure_emulator.account_key,
                           azure_container=make_storage.container, azure_ssl=False,
                           client_options={"proxies": proxies})
    assert storage.endpoint() == f"http://devstoreaccount1.blob.core.windows.net/{make_storage.container}"
    storage.save("k/file.txt", ContentFile(b"via account key"))
    assert storage.open("k/file.txt").read() == b"via account key"
    assert storage.listdir("k") == ([], ["file.txt"])
    assert AzureStorage(account_name="acct", endpoint_suffix="core.chinacloudapi.cn",
                        azure_container="c").endpoint() == "https://acct.blob.core.chinacloudapi.cn/c"


def test_sas_token_setting_authenticates(azure_emulator, make_storage):
    from datetime import datetime, timedelta, timezone

    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    token = generate_container_sas(azure_emulator.account_name, make_storage.container,
                                   account_key=azure_emulator.account_key,
                                   permission=ContainerSasPermissions(read=True, write=True, list=True,
                                                                      delete=True, create=True),
                                   expiry=datetime.now(timezone.utc) + timedelta(hours=1))
    storage = AzureStorage(account_name=azure_emulator.account_name, sas_token=token, azure_ssl=False,
                           azure_container=make_storage.container,
                           client_options={"proxies": {"http": azure_emulator.endpoint}})
    storage.save("sas.txt", ContentFile(b"sas"))
    assert storage.open("sas.txt").read() == b"sas"
    # url() never hands out the storage's own credential, and cannot sign without a key.
    assert storage.url("sas.txt", expire=0) == \
        f"http://devstoreaccount1.blob.core.windows.net/{make_storage.container}/sas.txt"
    with pytest.raises(ImproperlyConfigured, match="Signed URLs .* need AZURE_ACCOUNT_KEY"):
        storage.url("sas.txt", expire=60)


# -- bad input -------------------------------------------------------------------

def test_missing_container_setting():
    storage = AzureStorage(account_name="acct", account_key="a2V5")
    with pytest.raises(ImproperlyConfigured, match="needs a container: set the AZURE_CONTAINER setting"):
        storage.exists("x")


def test_missing_account():
    with pytest.raises(ImproperlyConfigured, match="set AZURE_ACCOUNT_NAME .* or AZURE_CONNECTION_STRING"):
        AzureStorage(azure_container="c").exists("x")


def test_container_that_does_not_exist(make_storage):
    storage = make_storage(azure_container="no-such-container")
    for call in (lambda: storage.exists("x"), lambda: storage.open("x"), lambda: storage.listdir(""),
                 lambda: storage.save("x", ContentFile(b"x")), lambda: storage.delete("x")):
        with pytest.raises(ImproperlyConfigured, match="'no-such-container' .* does not exist at http://127"):
            call()


def test_invalid_container_name(make_storage):
    storage = make_storage(azure_container="Bad_Name")
    with pytest.raises(ImproperlyConfigured, match="InvalidResourceName.*container names are 3-63 lowercase"):
        storage.exists("x")


def test_malformed_connection_string_does_not_echo_it():
    storage = AzureStorage(connection_string="this is not a connection string secretvalue",
                           azure_container="c")
    message = "AZURE_CONNECTION_STRING cannot be used .*malformed"
    with pytest.raises(ImproperlyConfigured, match=message) as info:
        storage.exists("x")
    assert "secretvalue" not in str(info.value)


def test_token_credential_over_plain_http_is_refused(azure_emulator):
    storage = AzureStorage(connection_string=f"BlobEndpoint={azure_emulator.blob_endpoint};",
                           token_credential=azure_emulator.token_credential(), azure_container="c")
    with pytest.raises(ImproperlyConfigured, match="Token credential is only supported with HTTPS"):
        storage.exists("x")


def test_unreachable_endpoint_names_it(azure_emulator):
    from emulators.base import free_port

    port = free_port()
    storage = AzureStorage(connection_string=azure_emulator.connection_string.replace(
        str(azure_emulator.port), str(port)), azure_container="c", client_options={"retry_total": 0})
    with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}/devstoreaccount1/c is unreachable"):
        storage.exists("x")


@pytest.mark.parametrize("options, message", [
    ({"upload_max_conn": 0}, "AZURE_UPLOAD_MAX_CONN must be a positive integer"),
    ({"max_memory_size": -1}, "AZURE_BLOB_MAX_MEMORY_SIZE must be a positive integer"),
    ({"timeout": "soon"}, "Invalid value for the AZURE_CONNECTION_TIMEOUT_SECS setting"),
    ({"azure_ssl": "maybe"}, "Invalid value for the AZURE_SSL setting"),
    ({"object_parameters": {"ContentType": "x"}}, "unknown key.*ContentType.*valid keys: content_type"),
    ({"object_parameters": [("content_type", "x")]}, "AZURE_OBJECT_PARAMETERS must be a dict"),
    ({"client_options": "retry_total=0"}, "AZURE_CLIENT_OPTIONS must be a dict"),
    ({"custom_domain": "https://cdn.example.com"}, "AZURE_CUSTOM_DOMAIN is a host name"),
])
def test_bad_options_are_refused_clearly(options, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        AzureStorage(**options)


def test_overlong_blob_name_is_refused_before_any_request(make_storage):
    storage = make_storage(connection_string="BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;")
    with pytest.raises(SuspiciousFileOperation, match="at most 1024 characters"):
        storage.save("x" * 1025, ContentFile(b"x"))
