"""Reads that resume: the rules the shared reader (``files._Reader``) follows when a
transfer breaks off.

A read whose stream fails mid-way (a reset, a timeout, a body cut short: anything the
backend translates to ``ServiceUnavailable``, or an end of stream before the object's
size) is re-requested from the byte already delivered: a ranged request where the service
has ranges, ``REST``/an offset for FTP and SFTP, or from the start and skipped forward
(``FromStart``) where it has neither. At most ``storage.read_resumes`` times per opened
stream (a seek opens a new one), after a short pause that grows. Each new request must
describe the same object as the one being read (:func:`same_object`: size, ETag,
version and modification time, where both report them); a changed object is
:class:`~storages.core.errors.ObjectChanged`, never bytes of two objects spliced
together. Only then does the last error leave.
"""

from __future__ import annotations

from typing import Any

from .errors import ServiceUnavailable

#: Resumptions of one opened stream (``BaseStorage.read_resumes``).
READ_RESUMES = 3
#: Seconds to wait before the n-th resumption (the last one repeats).
DELAYS = (0.0, 0.2, 0.5)

_IDENTITY = ("size", "etag", "version", "modified")


def delay(attempt: int) -> float:
    """The pause before resumption number ``attempt`` (1, 2, ...)."""
    return DELAYS[min(attempt, len(DELAYS)) - 1]


def has_identity(info: Any) -> bool:
    """Whether ``info`` says anything that tells one version of an object from another."""
    return any(getattr(info, field) is not None for field in _IDENTITY)


def same_object(before: Any, after: Any) -> bool:
    """Whether two answers describe the same stored object: no field both report differs."""
    for field in _IDENTITY:
        old, new = getattr(before, field), getattr(after, field)
        if old is not None and new is not None and old != new:
            return False
    return True


def cut_short(endpoint: str, name: str, at: int, size: int) -> ServiceUnavailable:
    """The error for a stream that ended before the object's last byte."""
    return ServiceUnavailable(f"{endpoint} ended the transfer of {name!r} at byte {at} of {size}")
