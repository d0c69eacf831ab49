"""FTPStorage configuration: SEED.md's LOCATION / BASE_URL, the current setting names,
bad URLs, and the password inside the URL staying secret."""

from __future__ import annotations

import pickle

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile
from django.test import override_settings

from emulators.ftp import FTPEmulator
from storages.backends.ftp import FTPStorage
from tests.support import started

URL = "ftp://alice:s3cret-Pa55@ftp.example.com:2121/media/files"


def test_location_setting_current_name():
    with override_settings(FTP_STORAGE_LOCATION=URL):
        storage = FTPStorage()
        assert storage.root == "/media/files"
        assert storage.endpoint() == "ftp://alice@ftp.example.com:2121/media/files"
        assert storage._key("a/b.txt") == "/media/files/a/b.txt"


def test_location_setting_seed_name_and_kwarg_precedence():
    with override_settings(LOCATION="ftp://bob:pw-seed-name@seed.example:21/"):
        storage = FTPStorage()
        assert storage.endpoint() == "ftp://bob@seed.example:21/"
        assert storage._key("x") == "/x"
        assert FTPStorage(location=URL).endpoint().startswith("ftp://alice@ftp.example.com")
    with override_settings(FTP_STORAGE_LOCATION=URL, LOCATION="ftp://other/"):
        assert FTPStorage().endpoint().startswith("ftp://alice@")  # the specific name wins


def test_url_without_path_is_relative_to_the_login_directory():
    storage = FTPStorage(location="ftp://h")
    assert storage.root == "" and storage._key("x/y") == "x/y"
    assert storage.endpoint() == "ftp://h:21"


@pytest.mark.parametrize("scheme, tls, passive", [("ftp", False, True), ("ftps", True, True),
                                                  ("aftp", False, False), ("FTPS", True, True)])
def test_schemes(scheme, tls, passive):
    server = FTPStorage(location=f"{scheme}://h/").\
        _server
    assert (server.tls, server.passive) == (tls, passive)


@pytest.mark.parametrize("location, message", [
    (None, "needs a server URL"),
    ("", "needs a server URL"),
    ("http://alice:s3cret-Pa55@h/", "scheme must be ftp://, ftps:// (explicit TLS) or aftp://"),
    ("alice:s3cret-Pa55@h", "scheme must be"),
    ("ftp:///path", "no host name"),
    ("ftp://alice:s3cret-Pa55@h:port/", "must be a number from 1 to 65535"),
    ("ftp://alice:s3cret-Pa55@h:99999/", "must be a number from 1 to 65535"),
    ("ftp://alice:s3cret-Pa55/", "must be a number from 1 to 65535"),
    ("ftp://alice:s3cret#Pa55@h/", "percent-encode"),
])
def test_bad_location_names_the_setting(location, message):
    with pytest.raises(ImproperlyConfigured) as info:
        FTPStorage(location=location)
    text = str(info.value)
    assert "FTP_STORAGE_LOCATION" in text and message in text
    assert "s3cret" not in text and "Pa55" not in text


def test_bad_location_from_settings_is_reported_at_construction():
    with override_settings(FTP_STORAGE_LOCATION="sftp://h/"):
        with pytest.raises(ImproperlyConfigured, match="FTP_STORAGE_LOCATION"):
            FTPStorage()


def test_location_removed_later_fails_at_next_use():
    with override_settings(FTP_STORAGE_LOCATION=URL):
        storage = FTPStorage()
    with pytest.raises(ImproperlyConfigured, match="FTP_STORAGE_LOCATION"):
        storage.exists("x")
    with override_settings(FTP_STORAGE_LOCATION=URL):
        assert storage.root == "/media/files"


def test_percent_encoded_credentials():
    storage = FTPStorage(location="ftp://us%40er:p%23ss%3Aword@h/")
    assert storage._server.user == "us@er"
    assert storage.password == "p#ss:word"


def test_password_never_in_repr_options_pickle_or_migrations():
    storage = FTPStorage(location=URL)
    assert storage.password == "s3cret-Pa55"
    public = storage.option_values()
    assert "password" not in public and public["location"] == "ftp://alice@ftp.example.com:2121/media/files"
    assert "s3cret" not in repr(storage) + str(storage) + storage.endpoint()
    dumped = pickle.dumps(storage)
    assert b"s3cret" not in dumped
    restored = pickle.loads(dumped)
    assert restored.endpoint() == storage.endpoint() and restored.password is None
    path, args, kwargs = storage.deconstruct()
    assert path == "storages.backends.ftp.FTPStorage" and "s3cret" not in repr(kwargs)
    # Where the pickle is loaded, the password comes back from the settings.
    with override_settings(FTP_STORAGE_PASSWORD="from-settings"):
        assert pickle.loads(dumped).password == "from-settings"


def test_password_option_when_the_url_has_none():
    storage = FTPStorage(location="ftp://alice@h/", password="kept-apart")
    assert storage.password == "kept-apart"
    assert b"kept-apart" not in pickle.dumps(storage)


def test_base_url_defaults_to_media_url_and_quotes_names():
    with override_settings(MEDIA_URL="https://cdn.example/media/"):
        storage = FTPStorage(location=URL)
        assert storage.url("dir/ü file.txt") == "https://cdn.example/media/dir/%C3%BC%20file.txt"
    with override_settings(BASE_URL="https://files.example/x"):
        assert FTPStorage(location=URL).url("a.txt") == "https://files.example/x/a.txt"
    assert FTPStorage(location=URL, base_url="/ftp/").url("a\\b.txt") == "/ftp/a/b.txt"
    with pytest.raises(SuspiciousFileOperation):
        FTPStorage(location=URL).url("../etc/passwd")


def test_allow_overwrite_setting_and_alias():
    assert FTPStorage(location=URL).file_overwrite is False
    with override_settings(FTP_ALLOW_OVERWRITE=True):
        assert FTPStorage(location=URL).file_overwrite is True
    assert FTPStorage(location=URL, allow_overwrite=True).file_overwrite is True
    assert FTPStorage(location=URL, file_overwrite="yes").file_overwrite is True


def test_encoding_setting():
    assert FTPStorage(location=URL).encoding == "utf-8"
    with override_settings(FTP_STORAGE_ENCODING="latin-1"):
        assert FTPStorage(location=URL).encoding == "latin-1"


def test_settings_change_is_picked_up():
    with override_settings(FTP_STORAGE_LOCATION=URL):
        storage = FTPStorage()
        with override_settings(FTP_STORAGE_LOCATION="ftp://carol:pw-two@two.example/"):
            assert storage.endpoint() == "ftp://carol@two.example:21/"
            assert storage.password == "pw-two"
        assert storage.endpoint().startswith("ftp://alice@ftp.example.com")


def test_encoding_reaches_the_control_connection(request):
    emulator = started(request, FTPEmulator(encoding="latin-1"))
    try:
        options = emulator.storage_options()
        storage = FTPStorage(**options, encoding="latin-1")
        storage.save("café.txt", ContentFile(b"x"))
        assert storage.listdir("") == ([], ["café.txt"])
        assert [p.name for p in emulator.root_dir.iterdir()] == ["café.txt"]
        storage.close()
        # The wrong encoding garbles the name on the server: the option is what makes it right.
        wrong = FTPStorage(**options, encoding="utf-8")
        wrong.save("né.txt", ContentFile(b"x"))
        assert "né.txt" not in [p.name for p in emulator.root_dir.iterdir()]
        wrong.close()
    finally:
        emulator.stop()


def test_reply_times_parse_to_aware_utc():
    from datetime import datetime, timezone

    from storages.backends.ftp.replies import parse_time

    assert parse_time("20240102030405") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert parse_time(" 20240102030405.25 ") == datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=timezone.utc)
    assert parse_time("2024-01-02") is None
    with pytest.raises(ValueError):
        parse_time("20241302030405")  # month 13


@pytest.mark.parametrize("line, entry", [
    ("type=file;size=3;modify=20240101120000; a.txt", ("a.txt", False)),
    ("modify=20240101120000;perm=el;TYPE=Dir; sub", ("sub", True)),  # any place, any case
    ("size=3;x.type=dir;type=file; name with spaces.txt", ("name with spaces.txt", False)),
    ("size=3; no-type-fact", ("no-type-fact", False)),  # no type: a file
    ("type=cdir; .", None),
    ("type=pdir;perm=el; ..", None),
    ("type=file;", None),  # no name
])
def test_mlsd_lines_give_the_name_and_whether_it_is_a_folder(line, entry):
    from storages.backends.ftp.replies import parse_mlsd_line

    assert parse_mlsd_line(line) == entry
