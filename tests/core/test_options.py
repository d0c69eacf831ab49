"""Option resolution, secrets and re-reading on setting_changed (storages/core/options.py)."""

import pickle

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from storages.core.options import Configurable, Option, to_bool


class Thing(Configurable):
    options = (
        Option("bucket", ("THING_BUCKET", "OLD_THING_BUCKET"), "default-bucket", env=("THING_BUCKET",)),
        Option("flag", ("THING_FLAG",), False, env=("THING_FLAG",), convert=to_bool),
        Option("token", ("THING_TOKEN",), None, secret=True),
        Option("size", ("THING_SIZE",), 10, convert=int, aliases=("old_size",)),
    )


class SubThing(Thing):
    bucket = "class-bucket"


def test_default_when_nothing_is_set(monkeypatch):
    monkeypatch.delenv("THING_BUCKET", raising=False)
    assert Thing().bucket == "default-bucket"


def test_resolution_order(monkeypatch):
    monkeypatch.setenv("THING_BUCKET", "env-bucket")
    assert Thing().bucket == "env-bucket"
    with override_settings(OLD_THING_BUCKET="old-setting"):
        assert Thing().bucket == "old-setting"
        with override_settings(THING_BUCKET="setting-bucket"):
            assert Thing().bucket == "setting-bucket"
            assert SubThing().bucket == "class-bucket"
            assert SubThing(bucket="kwarg-bucket").bucket == "kwarg-bucket"


def test_environment_strings_are_converted(monkeypatch):
    monkeypatch.setenv("THING_FLAG", "yes")
    assert Thing().flag is True
    monkeypatch.setenv("THING_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="THING_FLAG"):
        Thing()


def test_aliases_are_accepted():
    assert Thing(old_size="7").size == 7


def test_unknown_option_names_option_and_class():
    with pytest.raises(ImproperlyConfigured) as info:
        Thing(buckett="x")
    message = str(info.value)
    assert "'buckett'" in message and "Thing" in message and "bucket" in message


def test_values_are_re_read_when_a_setting_changes():
    thing = Thing()
    with override_settings(THING_BUCKET="changed"):
        assert thing.bucket == "changed"
    assert thing.bucket != "changed"
    pinned = Thing(bucket="pinned")
    with override_settings(THING_BUCKET="changed"):
        assert pinned.bucket == "pinned"


def test_secrets_stay_out_of_repr_and_pickles():
    thing = Thing(token="s3cr3t-t0ken", bucket="b")
    assert "s3cr3t-t0ken" not in repr(thing)
    dumped = pickle.dumps(thing)
    assert b"s3cr3t-t0ken" not in dumped
    restored = pickle.loads(dumped)
    assert restored.bucket == "b"
    assert restored.token is None
    assert "token" not in thing.option_values()
    assert thing.option_values(include_secrets=True)["token"] == "s3cr3t-t0ken"


def test_secret_from_settings_comes_back_after_unpickling():
    with override_settings(THING_TOKEN="from-settings"):
        restored = pickle.loads(pickle.dumps(Thing()))
        assert restored.token == "from-settings"


def test_deconstruct_for_migrations_drops_secrets():
    from storages.backends.s3 import S3Storage

    storage = S3Storage(bucket_name="b", secret_key="s3cr3t-key", location="media")
    path, args, kwargs = storage.deconstruct()
    assert path == "storages.backends.s3.S3Storage"
    assert kwargs == {"bucket_name": "b", "location": "media"}


def test_a_deprecated_option_warns_only_when_set():
    import warnings

    class Old(Configurable):
        options = (Option("spool", ("OLD_SPOOL",), 0, convert=int, deprecated="it has no effect"),)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Old().spool == 0  # left at its default: silent
    message = r"^OLD_SPOOL setting \(or the 'spool' option\): it has no effect$"
    with pytest.warns(DeprecationWarning, match=message):
        assert Old(spool="5").spool == 5
    with override_settings(OLD_SPOOL=7), pytest.warns(DeprecationWarning, match="OLD_SPOOL"):
        assert Old().spool == 7
