"""Fixtures for the SFTP backend's own tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from emulators.sftp import SFTPEmulator
from tests.support import started, storage_maker


@pytest.fixture
def own_sftp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SFTPEmulator]:
    """A private SFTP emulator: tests that restart it, plant files in its jail or
    count its connections must not disturb the session's shared one. Its
    directory is made in ``tmp_path``, so nothing else writes beside the jail."""
    emulator = started(request, SFTPEmulator(base_dir=tmp_path))
    yield emulator
    emulator.stop()


@pytest.fixture
def make_sftp(sftp_emulator: SFTPEmulator) -> Iterator[Callable[..., Any]]:
    """Make SFTPStorage instances on the session emulator, all in one fresh directory."""
    from storages.backends.sftpstorage import SFTPStorage

    with storage_maker(SFTPStorage, sftp_emulator.new_namespace()) as make:
        yield make
