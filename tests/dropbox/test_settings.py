"""DropboxStorage options: settings names, defaults, write mode, root path, credentials errors."""


import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings

from storages.backends.dropbox import DropBoxStorage, DropboxStorage


def test_both_names_are_one_class():
    import storages.backends.dropbox as module

    assert DropBoxStorage is DropboxStorage
    assert module.DropBoxStorageException is module.DropboxStorageException


def test_settings_are_read(dropbox_emulator):
    with override_settings(
        DROPBOX_OAUTH2_TOKEN="tok-from-settings", DROPBOX_ROOT_PATH="/jail/sub/", DROPBOX_APP_KEY="key",
        DROPBOX_APP_SECRET="secret-value", DROPBOX_OAUTH2_REFRESH_TOKEN="refresh-value", DROPBOX_TIMEOUT="7",
        DROPBOX_WRITE_MODE="overwrite", DROPBOX_API_ENDPOINT="http://127.0.0.1:9",
    ):
        storage = DropBoxStorage()
        assert storage.oauth2_access_token == "tok-from-settings"
        assert storage.root_path == "/jail/sub" and storage.root == "/jail/sub"
        assert (storage.app_key, storage.app_secret, storage.oauth2_refresh_token) == (
            "key", "secret-value", "refresh-value")
        assert storage.timeout == 7.0 and storage.write_mode == "overwrite" and storage.file_overwrite is True
        assert storage.api_endpoint == "http://127.0.0.1:9"
        assert storage._key("a/b.txt") == "/jail/sub/a/b.txt"


def test_defaults():
    storage = DropboxStorage(oauth2_access_token="t")
    assert storage.root_path == "/" and storage._key("x") == "/x"
    assert storage.write_mode == "add" and storage.file_overwrite is False
    assert storage.timeout == 100 and storage.api_endpoint is None
    assert storage.endpoint() == "https://api.dropboxapi.com"


@pytest.mark.parametrize("raw, expected", [
    ("jail", "/jail"), ("/a/b/", "/a/b"), ("", "/"), ("\\win\\dir", "/win/dir")])
def test_root_path_is_normalised(raw, expected):
    assert DropboxStorage(oauth2_access_token="t", root_path=raw).root_path == expected


def test_root_path_may_not_climb():
    with pytest.raises(ImproperlyConfigured, match="DROPBOX_ROOT_PATH"):
        DropboxStorage(oauth2_access_token="t", root_path="/a/../b")


def test_write_mode_drives_file_overwrite_unless_given():
    assert DropboxStorage(oauth2_access_token="t", write_mode="OVERWRITE").file_overwrite is True
    explicit = DropboxStorage(oauth2_access_token="t", write_mode="overwrite", file_overwrite=False)
    assert explicit.file_overwrite is False
    assert DropboxStorage(oauth2_access_token="t", file_overwrite=True).file_overwrite is True
    with override_settings(DROPBOX_WRITE_MODE="add"):
        storage = DropboxStorage(oauth2_access_token="t")
        assert storage.file_overwrite is False
        with override_settings(DROPBOX_WRITE_MODE="overwrite"):
            assert storage.file_overwrite is True  # re-resolved on setting_changed
    with pytest.raises(ImproperlyConfigured, match="DROPBOX_WRITE_MODE"):
        DropboxStorage(oauth2_access_token="t", write_mode="update")


def test_subclass_attributes():
    class Static(DropboxStorage):
        root_path = "/static"
        write_mode = "overwrite"

    storage = Static(oauth2_access_token="t")
    assert storage.root == "/static" and storage.file_overwrite is True


def test_location_is_the_old_name_of_root_path():
    class Old(DropboxStorage):
        location = "/old-style"  # early upstream versions read DROPBOX_ROOT_PATH into `location`

    assert Old(oauth2_access_token="t").root_path == "/old-style"
    assert DropboxStorage(oauth2_access_token="t", location="kw").root == "/kw"


def test_token_as_first_positional_argument(dropbox_emulator):
    options = dropbox_emulator.new_namespace()
    token = options.pop("oauth2_access_token")
    storage = DropboxStorage(token, **options)
    storage.save("p.txt", ContentFile(b"positional"))
    assert storage.open("p.txt").read() == b"positional"
    path, args, kwargs = storage.deconstruct()  # a migration never carries the token
    assert args == () and token not in repr(kwargs) and kwargs["root_path"] == options["root_path"]


def test_missing_credentials_fail_on_first_use_naming_the_settings():
    storage = DropboxStorage()  # constructing never connects nor complains
    with pytest.raises(ImproperlyConfigured, match="DROPBOX_OAUTH2_TOKEN"):
        storage.exists("x")
    with pytest.raises(ImproperlyConfigured, match="DROPBOX_OAUTH2_REFRESH_TOKEN"):
        DropboxStorage(app_key="only-a-key").listdir("")


