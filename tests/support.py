"""Helpers shared by the test packages (imported, not fixtures): failing sources,
storage makers, private emulators, planted temporary names."""

from __future__ import annotations

import contextlib
import posixpath
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from emulators.base import Emulator, EmulatorUnavailable
from emulators.contract.support import FailingSource  # noqa: F401 - the backends' tests import it from here
from emulators.pytest_plugin import _unavailable
from storages.core import temp_name


@contextlib.contextmanager
def storage_maker(cls: type, options: dict[str, Any]) -> Iterator[Callable[..., Any]]:
    """``make(cls=cls, **overrides)``: storages built from ``options`` (a fresh namespace of an
    emulator, kept as ``make.options``) plus overrides. Those with ``close()`` (the pooled FTP
    and SFTP connections) are closed when the block ends."""
    made: list[Any] = []

    def make(storage_cls: type = cls, /, **overrides: Any) -> Any:
        storage = storage_cls(**{**options, **overrides})
        made.append(storage)
        return storage

    make.options = options  # type: ignore[attr-defined]
    try:
        yield make
    finally:
        for storage in made:
            close = getattr(storage, "close", None)
            if close is not None:
                close()


def with_options(make: Callable[..., Any], **fixed: Any) -> Callable[..., Any]:
    """``make`` with some options fixed (a call may still override them), e.g. an endpoint
    that goes through a CountingProxy; ``make``'s attributes (``options``, ...) are kept."""

    def made(*args: Any, **overrides: Any) -> Any:
        return make(*args, **{**fixed, **overrides})

    made.__dict__.update(make.__dict__)
    return made


def started(request: pytest.FixtureRequest, emulator: Emulator) -> Emulator:
    """Start a test's own ``emulator`` (one it may restart or reconfigure); if it cannot run
    here, skip the test (fail it with --storage-strict), as the session's emulators do."""
    try:
        emulator.start()
    except EmulatorUnavailable as exc:
        emulator.stop()
        _unavailable(request.config, f"the {emulator.name} emulator", exc)
    return emulator


@contextlib.contextmanager
def planted_temp_names(directory: Path) -> Iterator[list[str]]:
    """Put an upload-in-progress file (``storages.core.temp_name``) and look-alikes that are
    not one into ``directory``; yield the look-alikes, which ``listdir`` must still show.
    The files are removed afterwards (other tests look for stray temporary files)."""
    directory.mkdir(parents=True, exist_ok=True)
    hidden = posixpath.basename(temp_name("x"))
    shown = [".~sftp-0123456789abcdef0123456789abcdef.part", ".storages-upload.part",
             hidden[1:], hidden + ".txt"]
    paths = [directory / name for name in [hidden, *shown]]
    for path in paths:
        path.write_bytes(b"x")
    try:
        yield shown
    finally:
        for path in paths:
            path.unlink(missing_ok=True)


def pinned_to(storage_cls: type, name: str, **read_parameters: Any) -> type:
    """A subclass of ``storage_cls`` whose ``get_object_parameters(name)`` adds
    ``read_parameters`` (a version, generation or snapshot to read) for that one name."""

    class Pinned(storage_cls):  # type: ignore[valid-type, misc]
        def get_object_parameters(self, key: str) -> dict[str, Any]:
            params = super().get_object_parameters(key)
            if key == name:
                params.update(read_parameters)
            return params

    return Pinned


def assert_reads_first_version(pinned: Any, writer: Any, name: str = "terms.txt") -> None:
    """``pinned`` reads ``b"first version"`` of ``name`` (whole, size, after a seek) while
    ``writer`` reads the current ``b"second"``."""
    assert pinned.open(name).read() == b"first version"
    assert pinned.size(name) == len(b"first version")
    with pinned.open(name) as f:
        f.seek(6)
        assert f.read() == b"version"
    assert writer.open(name).read() == b"second"
