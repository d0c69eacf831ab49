"""What every backend promises beyond storing files, written once (DESIGN.md "Options"):
option resolution and unknown-option refusal, secrets that never leave, lifecycle (pickles,
threads, ``setting_changed``), and a missing SDK naming the extra to install."""

import importlib.metadata
import pickle
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.test import override_settings
from django.utils.module_loading import import_string

from emulators.registry import EMULATORS, load
from storages.compat import override_storages

from .targets import secrets_for

# Values no option resolution rewrites (Django prefixes relative MEDIA_URL-style values with "/").
KWARG, CLASS, SETTING, LATER, ENV = (f"https://{source}.example" for source in
                                     ("kwarg", "class", "setting", "later-setting", "env"))


def backend(storage_factory):
    return import_string(storage_factory.backend)


def probe_option(cls, options):
    """A plain option of ``cls`` (read from a Django setting, not converted, not secret, not set by
    the target) that keeps any string given to it; one the SDK also reads from the environment
    comes first."""
    candidates = [o for o in cls.options if o.settings and not o.secret and o.convert is None
                  and o.name not in options and not set(o.aliases) & set(options)]
    for option in sorted(candidates, key=lambda o: not o.env):
        try:
            if getattr(cls(**options, **{option.name: KWARG}), option.name) == KWARG:
                return option
        except Exception:  # noqa: BLE001 - an option that wants another kind of value: try the next
            continue
    raise AssertionError(f"{cls.__name__} has no plain option to check resolution with")


class _Unset:
    """Inside an override_settings(): the option's settings and environment variables are unset."""

    def __init__(self, option, monkeypatch):
        self.option, self.monkeypatch = option, monkeypatch

    def __enter__(self):
        self.override = override_settings()
        self.override.enable()
        for name in self.option.settings:
            if hasattr(settings, name):
                delattr(settings, name)
        for var in self.option.env:
            self.monkeypatch.delenv(var, raising=False)
        return self

    def __exit__(self, *exc):
        self.override.disable()


# -- options ----------------------------------------------------------------------------

def test_option_resolution_order(storage_factory, monkeypatch):
    """Constructor keyword > class attribute on a subclass > Django setting > environment > default."""
    cls, options = backend(storage_factory), storage_factory.options
    option = probe_option(cls, options)
    name, first = option.name, option.settings[0]
    sub = type(f"Sub{cls.__name__}", (cls,), {name: CLASS})
    with _Unset(option, monkeypatch):
        default = getattr(cls(**options), name)
        seen = [default]
        if option.env:
            monkeypatch.setenv(option.env[0], ENV)
            seen.append(getattr(cls(**options), name))
        if len(option.settings) > 1:  # the first setting found wins
            with override_settings(**{option.settings[-1]: LATER}):
                seen.append(getattr(cls(**options), name))
        both = {first: SETTING, **{later: LATER for later in option.settings[1:]}}
        with override_settings(**both):
            seen.append(getattr(cls(**options), name))
            seen.append(getattr(sub(**options), name))
            seen.append(getattr(sub(**options, **{name: KWARG}), name))
    expected = [default] + [ENV] * bool(option.env) + [LATER] * (len(option.settings) > 1)
    assert seen == [*expected, SETTING, CLASS, KWARG], (name, seen)
    assert default not in (ENV, SETTING, CLASS, KWARG)


def test_unknown_options_are_refused_naming_option_and_class(storage_factory):
    cls, options = backend(storage_factory), storage_factory.options
    path = f"{cls.__module__}.{cls.__qualname__}"
    with pytest.raises(ImproperlyConfigured) as info:
        cls(**options, no_such_option=1)
    message = str(info.value)
    assert "'no_such_option'" in message and path in message and cls.options[0].name in message
    entry = {"BACKEND": storage_factory.backend, "OPTIONS": {**options, "bukcet": "typo"}}
    with override_storages({"default": entry, "staticfiles": entry}):
        from django.core.files.storage import storages

        with pytest.raises(ImproperlyConfigured, match=rf"'bukcet'.*{cls.__name__}|{cls.__name__}.*'bukcet'"):
            storages["default"]


def test_setting_changed_re_resolves_live_storages(storage_factory, monkeypatch):
    cls, options = backend(storage_factory), storage_factory.options
    option = probe_option(cls, options)
    with _Unset(option, monkeypatch):
        storage, pinned = cls(**options), cls(**options, **{option.name: KWARG})
        before = getattr(storage, option.name)
        with override_settings(**{option.settings[0]: SETTING}):
            assert getattr(storage, option.name) == SETTING
            assert getattr(pinned, option.name) == KWARG  # a keyword beats any setting
        assert getattr(storage, option.name) == before


# -- secrets --------------------------------------------------------------------------------

def test_secrets_never_leave_the_storage(storage_factory, storage_target):
    """Keys, tokens and passwords stay out of repr(), str(), option_values(), pickles and
    migrations (deconstruct())."""
    overrides, secrets = secrets_for(storage_target.id, storage_factory.options)
    storage = storage_factory(**overrides)
    texts = [repr(storage), str(storage), repr(storage.option_values()), repr(storage.deconstruct()),
             repr(storage.__getstate__())]
    dumped = pickle.dumps(storage)
    for secret in secrets:
        assert all(secret not in text for text in texts), secret
        assert secret.encode() not in dumped, secret
    assert type(storage).__name__ in repr(storage)
    path, args, kwargs = storage.deconstruct()
    assert import_string(path) is type(storage) and not args
    restored = pickle.loads(dumped)
    public = storage.option_values()
    assert type(restored) is type(storage)
    assert {k: v for k, v in restored.option_values().items() if k in public} == public


def test_configured_by_settings_a_pickled_storage_works_where_it_is_loaded(storage_factory):
    """Secrets do not travel in the pickle: the copy resolves them again from the settings."""
    cls, options = backend(storage_factory), storage_factory.options
    by_name = {o.name: o for o in cls.options} | {a: o for o in cls.options for a in o.aliases}
    as_settings = {by_name[key].settings[0]: value for key, value in options.items()}
    with override_settings(**as_settings):
        storage = cls()
        storage.save("pickled/file.txt", ContentFile(b"pickled"))
        dumped = pickle.dumps(storage)
        restored = pickle.loads(dumped)
        assert restored.open("pickled/file.txt").read() == b"pickled"
    assert "***" not in storage.redact(dumped.decode("latin-1"))  # nothing secret in the pickle


# -- lifecycle -------------------------------------------------------------------------------

def test_one_storage_serves_several_threads(storage):
    def work(i):
        name, data = f"threads/{i}/file.bin", bytes([i]) * (1000 + i)
        assert storage.save(name, ContentFile(data)) == name
        assert storage.exists(name) and storage.size(name) == len(data)
        with storage.open(name) as f:
            assert f.read() == data
        return name

    with ThreadPoolExecutor(4) as pool:
        names = list(pool.map(work, range(8)))
    assert storage.listdir("threads")[0] == [str(i) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(storage.delete, names))
    assert not any(storage.exists(name) for name in names)


# -- the SDK --------------------------------------------------------------------------------

def _declared_sdks():
    return {m for emulator in EMULATORS.values() for m in import_string(load(emulator).backend).sdk_modules}


def test_a_missing_sdk_names_the_extra_to_install(storage_factory, monkeypatch):
    cls = backend(storage_factory)
    if not cls.sdk_modules:  # FTP: the standard library only, whichever SDKs are missing
        for module in _declared_sdks():
            monkeypatch.setitem(sys.modules, module, None)
        storage = storage_factory()
        storage.save("no-sdk.txt", ContentFile(b"x"))
        assert storage.exists("no-sdk.txt")
        return
    extras = importlib.metadata.metadata("django-storages").get_all("Provides-Extra")
    assert cls.sdk_extra in extras
    for module in cls.sdk_modules:
        monkeypatch.setitem(sys.modules, module, None)
        with pytest.raises(ImproperlyConfigured) as info:
            storage_factory().exists("x")
        assert repr(module) in str(info.value)
        assert f"pip install 'django-storages[{cls.sdk_extra}]'" in str(info.value)
