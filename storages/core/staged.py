"""Staged uploads: write a hidden temporary name, then move it onto the real name.

For services that write files in place (FTP, SFTP, libcloud's local driver), a
failed upload must never leave a partial file under the name. :class:`StagedUpload`
owns the temporary name (:func:`storages.core.names.temp_name`), the order of the
steps and the clean-up; a backend only says how its service does each step.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from .files import Upload
from .names import temp_name

logger = logging.getLogger(__name__)
T = TypeVar("T")


class StagedUpload(Upload):
    """An :class:`Upload` that streams to ``self.temp`` and places it under ``self.key``.

    The steps, in order: for a streamed create-only upload, a check that the name is
    free (so a taken name fails before gigabytes are sent); ``_open_temp``;
    ``_write`` for each part; ``_finish_temp`` with the last bytes; ``_place``. After a
    failure at any step, or an abort, ``_release`` then ``_remove_temp`` run (best
    effort, logged), so neither the temporary file nor a partial object remains.
    A file smaller than one part is staged whole inside one ``_step``.
    """

    def __init__(self, key: str, *, create_only: bool, where: str = "") -> None:
        self.key = key
        self.create_only = create_only
        self.where = where  # the service, for log messages
        self.temp = ""
        self._staging = False  # a temporary file may exist and is ours to remove

    # -- what a backend says ------------------------------------------------------
    def _exists(self) -> bool:
        """Whether ``self.key`` is taken (the early check of streamed create-only uploads)."""
        raise NotImplementedError

    def _open_temp(self) -> None:
        """Start writing ``self.temp``, creating missing directories."""
        raise NotImplementedError

    def _write(self, data: bytes) -> None:
        """Send bytes to the temporary file."""
        raise NotImplementedError

    def _finish_temp(self, tail: bytes) -> None:
        """Send the last bytes and complete the temporary file (close it, check every reply)."""
        raise NotImplementedError

    def _place(self) -> None:
        """Move ``self.temp`` onto ``self.key``: replacing it, or, when create-only, raising
        ``FileExistsError`` if the name is taken (the temporary file is then removed)."""
        raise NotImplementedError

    def _release(self, error: BaseException | None) -> None:
        """Give back what the upload holds (a connection, a handle), after success
        (``error`` None) or after ``error``."""

    def _remove_temp(self) -> None:
        """Delete ``self.temp``; a temporary file that is already gone is not an error."""
        raise NotImplementedError

    def _step(self, fn: Callable[[], T]) -> T:
        """Run a step that starts with opening the temporary file and cleans up after
        itself on failure, so it can be run again from the start. Connection-based
        backends run it through their reconnect-and-retry-once helper."""
        return fn()

    # -- Upload ---------------------------------------------------------------------
    def write_part(self, data: bytes) -> None:
        if not self._staging:
            if self.create_only and self._exists():
                raise FileExistsError(f"{self.key!r} already exists at {self.where}")
            self._step(self._open)
        with self._discarding():
            self._write(data)

    def commit(self, tail: bytes) -> None:
        if self._staging:
            self._complete(tail)
        else:  # nothing sent yet: the whole file is one step
            self._step(lambda: self._whole(tail))

    def abort(self) -> None:
        self._discard(None)

    # -- the order of the steps -----------------------------------------------------
    def _open(self) -> None:
        self.temp = temp_name(self.key)  # a fresh one for every attempt
        self._staging = True
        with self._discarding():
            self._open_temp()

    def _whole(self, tail: bytes) -> None:
        self._open()
        self._complete(tail)

    def _complete(self, tail: bytes) -> None:
        with self._discarding():
            self._finish_temp(tail)
            self._place()
        self._staging = False
        self._release(None)

    @contextmanager
    def _discarding(self) -> Iterator[None]:
        """On any failure inside, discard what was staged, then re-raise."""
        try:
            yield
        except BaseException as exc:
            self._discard(exc)
            raise

    def _discard(self, error: BaseException | None) -> None:
        """Best effort: the upload already failed or was abandoned."""
        if not self._staging:
            return
        self._staging = False
        try:
            self._release(error)
        except Exception as exc:  # a connection that died with the upload, say
            logger.debug("Releasing the upload of %s at %s: %s", self.key, self.where, exc)
        try:
            self._remove_temp()
        except Exception as exc:
            logger.warning("Could not delete the partial upload %s at %s: %s", self.temp, self.where, exc)
