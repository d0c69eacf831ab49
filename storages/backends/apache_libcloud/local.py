"""libcloud's local driver, where we do the file work ourselves: uploads staged under
the core's temporary name in the container's ``.lock`` folder (which the driver never
lists) and placed with a rename, or a hard link for create-only saves (atomic, fails
if the name exists); and reads that open the file (the driver's range stream would
read the whole file into memory)."""

from __future__ import annotations

import os
import posixpath
from typing import Any, BinaryIO

from storages.core import StagedUpload

from .transfer import LibCloudTarget

STAGING = ".lock"


def open_file(path: str, key: str, start: int) -> tuple[BinaryIO, os.stat_result]:
    """The object's file, positioned at ``start``, and its stat."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 - returned open: the core closes the stream
    except IsADirectoryError:
        raise FileNotFoundError(f"{key!r} is a directory, not a file") from None
    handle.seek(start)
    return handle, os.fstat(handle.fileno())


class LocalUpload(StagedUpload):
    """A staged upload into the local driver's container (steps and clean-up: the core's)."""

    def __init__(self, storage: LibCloudTarget, key: str, create_only: bool) -> None:
        driver = storage.driver
        container_dir = driver.get_container_cdn_url(storage._container(driver), check=True)
        super().__init__(key, create_only=create_only, where=container_dir)
        self.final = driver.get_object_cdn_url(storage._object(key, driver))
        self.staging = os.path.join(container_dir, STAGING)
        self.file: Any = None

    @property
    def path(self) -> str:
        """Where the temporary file is on disk."""
        return os.path.join(self.staging, posixpath.basename(self.temp))

    def _exists(self) -> bool:
        return os.path.lexists(self.final)

    def _open_temp(self) -> None:
        os.makedirs(self.staging, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        self.file = os.fdopen(fd, "wb")

    def _write(self, data: bytes) -> None:
        self.file.write(data)

    def _finish_temp(self, tail: bytes) -> None:
        self.file.write(tail)
        self.file.close()
        os.chmod(self.path, 0o664)  # what the local driver gives its files

    def _place(self) -> None:
        for attempt in range(5):
            os.makedirs(os.path.dirname(self.final), exist_ok=True)
            try:
                (os.link if self.create_only else os.replace)(self.path, self.final)
                break
            except FileNotFoundError:  # a delete pruned the emptied directory meanwhile
                if attempt == 4:
                    raise
        if self.create_only:
            self._remove_temp()  # the link left the staged name behind

    def _release(self, error: BaseException | None) -> None:
        if self.file is not None:
            self.file.close()

    def _remove_temp(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
