"""Fixtures for the Dropbox backend and fake tests: the official SDK, the real fake, real sockets."""

import pytest

from emulators.proxy import CountingProxy
from tests.support import storage_maker, with_options


@pytest.fixture
def make_storage(dropbox_emulator):
    """DropboxStorage jailed in a fresh root folder of the session's fake; kwargs are options."""
    from storages.backends.dropbox import DropboxStorage

    with storage_maker(DropboxStorage, dropbox_emulator.new_namespace()) as make:
        make.root_path = make.options["root_path"]
        yield make


@pytest.fixture
def dbx_storage(make_storage):
    return make_storage()


@pytest.fixture
def raw(dropbox_emulator):
    """A raw dropbox.Dropbox client on the fake (no backend code in the way)."""
    client = dropbox_emulator.client()
    yield client
    client.close()


@pytest.fixture
def tweak(dropbox_emulator):
    """``tweak(page_size=3, link_lifetime=0, ...)`` sets fake store knobs for one test."""
    store = dropbox_emulator.store
    saved = {}

    def set_(**values):
        for key, value in values.items():
            saved.setdefault(key, getattr(store, key))
            setattr(store, key, value)

    yield set_
    for key, value in saved.items():
        setattr(store, key, value)


@pytest.fixture
def proxy(dropbox_emulator):
    """A counting, fault-injecting proxy in front of the fake's plain-HTTP port."""
    with CountingProxy(dropbox_emulator.host, dropbox_emulator.port) as running:
        yield running


@pytest.fixture
def proxied(make_storage, proxy):
    """Like ``make_storage``, but every request goes through ``proxy``."""
    return with_options(make_storage, api_endpoint=proxy.endpoint)


def routes(requests):
    """The API routes of recorded (method, path) pairs: '/2/files/upload' -> 'files/upload'."""
    return [path.split("?")[0].removeprefix("/2/") for _, path in requests]

