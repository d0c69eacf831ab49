"""Fixtures for the Azure backend's own tests (Azurite from the session, plus an HTTPS one)."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from emulators.azure import AzureEmulator
from emulators.proxy import CountingProxy
from storages.backends.azure_storage import AzureStorage
from tests.support import started, storage_maker, with_options


@pytest.fixture
def make_storage(azure_emulator: AzureEmulator) -> Iterator[Callable[..., AzureStorage]]:
    """AzureStorage in a fresh container of the session's Azurite; kwargs are options."""
    with storage_maker(AzureStorage, azure_emulator.new_namespace()) as make:
        make.container = make.options["azure_container"]  # type: ignore[attr-defined]
        yield make


@pytest.fixture
def raw_container(azure_emulator: AzureEmulator, make_storage: Any) -> Any:
    """The raw SDK's ContainerClient for ``make_storage``'s container."""
    return azure_emulator.service_client().get_container_client(make_storage.container)


@pytest.fixture
def proxied(azure_emulator: AzureEmulator,
            make_storage: Any) -> Iterator[tuple[CountingProxy, Callable[..., AzureStorage]]]:
    """A request-counting proxy in front of Azurite, and a storage factory that goes through it."""
    with CountingProxy(azure_emulator.host, azure_emulator.port) as proxy:
        connection_string = azure_emulator.connection_string.replace(azure_emulator.endpoint, proxy.endpoint)
        yield proxy, with_options(make_storage, connection_string=connection_string)


@pytest.fixture(scope="module")
def azure_https_emulator(request: pytest.FixtureRequest) -> Iterator[AzureEmulator]:
    """A second Azurite serving HTTPS with OAuth (token credentials, user-delegation SAS)."""
    emulator = started(request, AzureEmulator(https=True))
    yield emulator
    emulator.stop()
