"""Fixtures for the SFTP backend's own tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from emulators.base import EmulatorUnavailable
from emulators.sftp import SFTPEmulator


@pytest.fixture
def own_sftp(tmp_path: Path) -> Iterator[SFTPEmulator]:
    """A private SFTP emulator: tests that restart it, plant files in its jail or
    count its connections must not disturb the session's shared one. Its
    directory is made in ``tmp_path``, so nothing else writes beside the jail."""
    emulator = SFTPEmulator(base_dir=tmp_path)
    try:
        emulator.start()
    except EmulatorUnavailable as exc:
        pytest.skip(f"the sftp emulator cannot run here: {exc}")
    yield emulator
    emulator.stop()


@pytest.fixture
def make_sftp(sftp_emulator: SFTPEmulator) -> Iterator[Callable[..., Any]]:
    """Make SFTPStorage instances on the session emulator, all in one fresh directory."""
    from storages.backends.sftpstorage import SFTPStorage

    options = sftp_emulator.new_namespace()
    made: list[SFTPStorage] = []

    def make(**overrides: Any) -> SFTPStorage:
        storage = SFTPStorage(**{**options, **overrides})
        made.append(storage)
        return storage

    make.options = options  # type: ignore[attr-defined]
    yield make
    for storage in made:
        storage.close()
