"""GoogleCloudStorage settings: names, defaults, conversions and bad-input messages."""

import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.test import override_settings

from emulators.gcs import service_account_info
from storages.backends.gcloud import GoogleCloudStorage


def test_documented_defaults():
    storage = GoogleCloudStorage(bucket_name="b")
    assert storage.file_overwrite is True
    assert storage.querystring_auth is True
    assert storage.auto_create_bucket is False
    assert storage.auto_create_acl == "projectPrivate"
    assert storage.expiration == datetime.timedelta(days=1)
    assert storage.location == ""
    assert storage.max_memory_size == 0
    assert storage.gzip is False
    assert storage.object_parameters == {}
    assert storage.part_size == 8 * 1024 * 1024


@override_settings(
    GS_BUCKET_NAME="from-settings", GS_PROJECT_ID="proj", GS_LOCATION="/media/",
    GS_FILE_OVERWRITE=False, GS_DEFAULT_ACL="publicRead", GS_QUERYSTRING_AUTH=False,
    GS_EXPIRATION=600, GS_IS_GZIPPED=True, GS_OBJECT_PARAMETERS={"cache_control": "no-cache"},
    GS_BLOB_CHUNK_SIZE=512 * 1024, GS_CUSTOM_ENDPOINT="https://cdn.example.com/",
    GS_IAM_SIGN_BLOB=True, GS_SA_EMAIL="sa@p.iam.gserviceaccount.com", GS_AUTO_CREATE_BUCKET=True,
    GS_AUTO_CREATE_ACL="publicRead", GS_MAX_MEMORY_SIZE=4096, GS_FILE_CHARSET="latin-1",
    GS_EMULATOR_HOST="127.0.0.1:9",
)
def test_every_setting_reaches_its_option():
    storage = GoogleCloudStorage()
    assert storage.bucket_name == "from-settings"
    assert storage.project_id == "proj"
    assert storage.location == "media"
    assert storage.file_overwrite is False
    assert storage.default_acl == "publicRead"
    assert storage.querystring_auth is False
    assert storage.expiration == datetime.timedelta(seconds=600)
    assert storage.gzip is True
    assert storage.object_parameters == {"cache_control": "no-cache"}
    assert storage.part_size == 512 * 1024
    assert storage.custom_endpoint == "https://cdn.example.com"
    assert storage.iam_sign_blob is True and storage.sa_email == "sa@p.iam.gserviceaccount.com"
    assert storage.auto_create_bucket is True and storage.auto_create_acl == "publicRead"
    assert storage.chunk_size == 4096  # an open file never buffers more than GS_MAX_MEMORY_SIZE
    assert storage.file_name_charset == "latin-1"
    assert storage.emulator_host == "http://127.0.0.1:9"


def test_storage_emulator_host_environment_is_honoured(monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "localhost:4443")
    assert GoogleCloudStorage(bucket_name="b").emulator_host == "http://localhost:4443"
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443/")
    assert GoogleCloudStorage(bucket_name="b").emulator_host == "http://127.0.0.1:4443"
    with override_settings(GS_EMULATOR_HOST="http://127.0.0.1:1"):
        assert GoogleCloudStorage(bucket_name="b").emulator_host == "http://127.0.0.1:1"


def test_missing_bucket_name_is_named():
    storage = GoogleCloudStorage(emulator_host="http://127.0.0.1:9")
    for call in (storage.exists, storage.url, storage.size):
        with pytest.raises(ImproperlyConfigured, match="GS_BUCKET_NAME"):
            call("a.txt")


@pytest.mark.parametrize("option, value, message", [
    ("blob_chunk_size", 1000, "GS_BLOB_CHUNK_SIZE.*256 KiB"),
    ("blob_chunk_size", "lots", "GS_BLOB_CHUNK_SIZE"),
    ("file_name_charset", "no-such-codec", "GS_FILE_CHARSET"),
    ("credentials", "/nonexistent/key.json", "GS_CREDENTIALS.*key.json"),
    ("credentials", {"type": "service_account"}, "GS_CREDENTIALS"),
    ("credentials", __file__, "GS_CREDENTIALS.*not JSON"),
    ("expiration", "soon", "GS_EXPIRATION"),
    ("querystring_auth", "perhaps", "GS_QUERYSTRING_AUTH"),
])
def test_bad_values_name_their_setting(option, value, message):
    # Given as options: a bad value in settings would also break every live storage
    # re-reading its settings under override_settings.
    with pytest.raises(ImproperlyConfigured, match=message):
        GoogleCloudStorage(bucket_name="b", **{option: value})


def test_credentials_accept_a_key_file_or_its_dict(tmp_path):
    import json

    from google.oauth2 import service_account

    info = service_account_info()
    path = tmp_path / "key.json"
    path.write_text(json.dumps(info))
    for value in (str(path), path, info):
        credentials = GoogleCloudStorage(bucket_name="b", credentials=value).credentials
        assert isinstance(credentials, service_account.Credentials)
        assert credentials.service_account_email == info["client_email"]


def test_a_key_is_parsed_once_and_every_storage_gets_its_own_credentials(tmp_path):
    """Parsing the RSA key is the cost of making a GCS storage (bench/bench_isolation.py): it is
    done once per key; each storage still gets its own credentials (own token), and the cache
    holds the key's digest, never its text."""
    import json

    from storages.backends.gcloud import credentials as cache

    info = service_account_info()
    path = tmp_path / "key.json"
    path.write_text(json.dumps(info))
    first, second, third = (GoogleCloudStorage(bucket_name="b", credentials=value).credentials
                            for value in (str(path), info, dict(info)))
    assert first is not second and second is not third
    assert first.signer is second.signer is third.signer  # one parse for the file and the dicts
    assert not any(info["private_key"] in repr(entry) for entry in cache._parsed.items())

    other = {**info, "client_email": "other@test-project.iam.gserviceaccount.com"}
    path.write_text(json.dumps(other))  # the file changed: parsed again
    changed = GoogleCloudStorage(bucket_name="b", credentials=path).credentials
    assert changed.service_account_email == other["client_email"]
    assert changed.signer is not first.signer


def test_traversal_names_are_refused_before_any_request():
    # No emulator and no credentials: a request would fail with another error.
    storage = GoogleCloudStorage(bucket_name="b", location="media", emulator_host="http://127.0.0.1:9")
    for bad in ("../x", "a/../../x", "/etc/passwd", "a\x00b"):
        for call in (storage.exists, storage.open, storage.url, storage.delete, storage.listdir):
            with pytest.raises(SuspiciousFileOperation):
                call(bad)
    assert storage._key("a/b.txt") == "media/a/b.txt"


