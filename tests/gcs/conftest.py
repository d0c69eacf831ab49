"""Fixtures for the GCS backend's own tests: real SDK, real fake-gcs-server."""

import pytest

from emulators.proxy import CountingProxy
from tests.support import storage_maker, with_options


@pytest.fixture
def make_storage(gcs_emulator):
    """GoogleCloudStorage in a fresh bucket of the session's emulator; kwargs are options."""
    from storages.backends.gcloud import GoogleCloudStorage

    with storage_maker(GoogleCloudStorage, gcs_emulator.new_namespace()) as make:
        make.bucket_name = make.options["bucket_name"]
        yield make


@pytest.fixture
def gcs_storage(make_storage):
    return make_storage()


@pytest.fixture
def raw_bucket(gcs_emulator, make_storage):
    """The raw google-cloud-storage Bucket behind ``make_storage``."""
    return gcs_emulator.client().bucket(make_storage.bucket_name)


@pytest.fixture
def proxy(gcs_emulator):
    """A counting, fault-injecting proxy in front of the emulator."""
    with CountingProxy(gcs_emulator.host, gcs_emulator.port) as running:
        yield running


@pytest.fixture
def proxied(make_storage, proxy):
    """Like ``make_storage``, but every request goes through ``proxy``."""
    return with_options(make_storage, emulator_host=proxy.endpoint)


@pytest.fixture
def quick_retries(monkeypatch):
    """Retries of raw GCS requests (storages.backends.gcloud.retry) without the backoff's waits."""
    from storages.backends.gcloud import retry

    monkeypatch.setattr(retry, "FIRST_DELAY", 0.001)
