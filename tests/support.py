"""Helpers shared by the backend test packages (imported, not fixtures)."""

from __future__ import annotations

import contextlib
import posixpath
from pathlib import Path
from typing import Iterator

from storages.core import temp_name


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
