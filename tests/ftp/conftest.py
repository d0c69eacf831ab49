"""Fixtures for the FTP backend's own tests: private emulators a test may restart."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from emulators.ftp import FTPEmulator
from tests.support import started, storage_maker


@pytest.fixture
def private_ftp(request: pytest.FixtureRequest) -> Iterator[FTPEmulator]:
    """An FTP emulator of this test's own (it may be restarted or stopped)."""
    emulator = started(request, FTPEmulator())
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def ftps_emulator(request: pytest.FixtureRequest) -> Iterator[FTPEmulator]:
    """An explicit-TLS emulator that refuses plain control and data channels."""
    emulator = started(request, FTPEmulator(tls=True))
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def legacy_ftp(request: pytest.FixtureRequest) -> Iterator[FTPEmulator]:
    """An emulator without MLSD and MLST, like older servers."""
    emulator = started(request, FTPEmulator(mlsd=False, mlst=False))
    yield emulator
    emulator.stop()


@pytest.fixture
def ftp_storage(ftp_emulator: FTPEmulator) -> Iterator[Callable[..., Any]]:
    """Make FTPStorage instances on the session emulator, in one fresh directory."""
    from storages.backends.ftp import FTPStorage

    with storage_maker(FTPStorage, ftp_emulator.new_namespace()) as make:
        yield make
