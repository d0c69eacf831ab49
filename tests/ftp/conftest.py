"""Fixtures for the FTP backend's own tests: private emulators a test may restart."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest

from emulators.base import EmulatorUnavailable
from emulators.ftp import FTPEmulator


def _started(**kwargs: Any) -> FTPEmulator:
    emulator = FTPEmulator(**kwargs)
    try:
        emulator.start()
    except EmulatorUnavailable as exc:
        pytest.skip(f"the ftp emulator cannot run here: {exc}")
    return emulator


@pytest.fixture
def private_ftp() -> Iterator[FTPEmulator]:
    """An FTP emulator of this test's own (it may be restarted or stopped)."""
    emulator = _started()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def ftps_emulator() -> Iterator[FTPEmulator]:
    """An explicit-TLS emulator that refuses plain control and data channels."""
    emulator = _started(tls=True)
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def legacy_ftp() -> Iterator[FTPEmulator]:
    """An emulator without MLSD and MLST, like older servers."""
    emulator = _started(mlsd=False, mlst=False)
    yield emulator
    emulator.stop()


@pytest.fixture
def ftp_storage(ftp_emulator: FTPEmulator) -> Callable[..., Any]:
    """Make FTPStorage instances on the session emulator, in one fresh directory."""
    from storages.backends.ftp import FTPStorage

    options = ftp_emulator.new_namespace()
    made: list[FTPStorage] = []

    def make(**overrides: Any) -> FTPStorage:
        storage = FTPStorage(**{**options, **overrides})
        made.append(storage)
        return storage

    make.options = options  # type: ignore[attr-defined]
    yield make
    for storage in made:
        storage.close()
