"""Fixtures for the GCS backend's own tests: real SDK, real fake-gcs-server."""

import pytest

from emulators.proxy import CountingProxy


@pytest.fixture
def make_storage(gcs_emulator):
    """GoogleCloudStorage in a fresh bucket of the session's emulator; kwargs are options."""
    from storages.backends.gcloud import GoogleCloudStorage

    namespace = gcs_emulator.new_namespace()

    def make(**overrides):
        return GoogleCloudStorage(**{**namespace, **overrides})

    make.bucket_name = namespace["bucket_name"]
    return make


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
    """Make storages whose every request goes through ``proxy``."""

    def make(**overrides):
        return make_storage(emulator_host=proxy.endpoint, **overrides)

    return make
