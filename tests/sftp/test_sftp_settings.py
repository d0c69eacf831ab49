"""SEED.md's SFTP_* settings, the options they become, and what never leaks (no network)."""


import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.test import override_settings

from storages.backends.sftpstorage import SFTPStorage, to_mode

SECRET = "s3cret-Passw0rd"

ALL_SETTINGS = dict(
    SFTP_STORAGE_HOST="sftp.example.com",
    SFTP_STORAGE_ROOT="/srv/media/",
    SFTP_STORAGE_PARAMS={"port": 2222, "username": "deploy", "password": SECRET},
    SFTP_STORAGE_INTERACTIVE=True,
    SFTP_STORAGE_FILE_MODE=0o640,
    SFTP_STORAGE_DIR_MODE="0750",
    SFTP_STORAGE_UID=1001,
    SFTP_STORAGE_GID="1002",
    SFTP_KNOWN_HOST_FILE="/etc/ssh/ssh_known_hosts",
    SFTP_BASE_URL="https://media.example.com/files/",
    SFTP_STORAGE_FILE_OVERWRITE=True,
    SFTP_STORAGE_ACCEPT_UNKNOWN_HOST_KEY=True,
)


def test_every_setting_is_read():
    with override_settings(**ALL_SETTINGS):
        storage = SFTPStorage()
        assert storage.host == "sftp.example.com"
        assert storage.location == storage.root == "/srv/media/"
        assert storage.params == {"port": 2222, "username": "deploy", "password": SECRET}
        assert storage.interactive is True
        assert storage.file_mode == 0o640
        assert storage.dir_mode == 0o750
        assert (storage.uid, storage.gid) == (1001, 1002)
        assert storage.known_host_file == "/etc/ssh/ssh_known_hosts"
        assert storage.base_url == "https://media.example.com/files/"
        assert storage.file_overwrite is True
        assert storage.accept_unknown_host_key is True
        assert storage.endpoint() == "sftp://deploy@sftp.example.com:2222"
        assert storage._key("a/b.txt") == "/srv/media/a/b.txt"


def test_defaults_match_the_seed():
    storage = SFTPStorage(host="h")
    assert storage.params == {} and storage.interactive is False
    assert storage.file_mode is storage.dir_mode is storage.uid is storage.gid is None
    assert storage.known_host_file is None and storage._known_host_file().endswith("/.ssh/known_hosts")
    assert storage.location == "" and storage.file_overwrite is False
    assert storage.accept_unknown_host_key is False  # host keys are checked unless asked otherwise
    assert storage.port == 22


def test_kwargs_win_and_upstream_root_path_alias():
    with override_settings(**ALL_SETTINGS):
        storage = SFTPStorage(root_path="/other/", host="h2", file_mode=0o600)
        assert (storage.location, storage.host, storage.file_mode) == ("/other/", "h2", 0o600)


@pytest.mark.parametrize("raw, mode", [(0o755, 0o755), ("755", 0o755), ("0755", 0o755), ("0o640", 0o640)])
def test_modes_accept_octal_strings(raw, mode):
    assert to_mode(raw) == mode


def test_bad_mode_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="SFTP_STORAGE_FILE_MODE"):
        SFTPStorage(host="h", file_mode="rw-r--r--")


def test_url_joins_base_url_and_quotes():
    storage = SFTPStorage(host="h", base_url="https://cdn.example.com/m/")
    assert storage.url("dir/ü file.txt") == "https://cdn.example.com/m/dir/%C3%BC%20file.txt"
    for bad in ("../x", "/etc/passwd"):
        with pytest.raises(SuspiciousFileOperation):
            storage.url(bad)


def test_url_falls_back_to_media_url_then_refuses():
    with override_settings(MEDIA_URL="/uploads/"):
        assert SFTPStorage(host="h").url("a.txt") == "/uploads/a.txt"
    with pytest.raises(ValueError, match="SFTP_BASE_URL"):
        SFTPStorage(host="h", base_url=None).url("a.txt")


def test_missing_host_or_hostname_in_params_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="SFTP_STORAGE_HOST"):
        SFTPStorage(host=None).exists("x")
    with pytest.raises(ImproperlyConfigured, match="hostname"):
        SFTPStorage(host="h", params={"hostname": "h"}).exists("x")


def test_declared_capabilities():
    storage = SFTPStorage(host="h")
    assert {"create_only", "modified_time", "accessed_time"} <= storage.capabilities()
    assert "created_time" in storage.unsupported
