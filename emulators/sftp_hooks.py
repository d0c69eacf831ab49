"""The SFTP emulator's observation and fault hooks (one :class:`Session` per connection).

Every SFTP request (and each login) is classified (emulators.ops.SFTP_REQUESTS),
checked against the hub's faults and reported with its status code and the
bytes it moved. Faults: ``status`` answers that SFTP status code instead (a
refused login for ``login``); ``reset_before`` drops the connection before the
request runs (for a write, once the file reached byte K); ``reset_after`` and
``cut`` run it and drop the connection instead of answering (for a read, once
byte K went out: SFTP has no body to cut short); ``corrupt`` flips the file's byte K
in the data a read returns or a write carries; ``stall`` delays the request.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Callable

from paramiko.sftp import SFTP_FAILURE

from .faults import Fault
from .observe import HUB
from .ops import DIRECT_USER, SFTP_REQUESTS, Call

#: SFTP status codes recorded for answers that carry data, and for an empty read.
SFTP_OK, SFTP_EOF, SFTP_PERMISSION_DENIED = 0, 1, 3


class Session:
    """One client connection: its transport (to drop it) and whether it was dropped."""

    def __init__(self, transport: Any = None) -> None:
        self.transport = transport
        self.dropped = False
        self._deferred = False
        self._observed: bool | None = None

    @property
    def observed(self) -> bool:
        """False for a ``client(direct=True)`` session (set-up and inspection)."""
        if self._observed is None:
            username = self.transport.get_username() if self.transport is not None else None
            if username is None:
                return True
            self._observed = username != DIRECT_USER
        return self._observed

    def defer_drop(self) -> None:
        """Drop the connection once the request in progress is reported (``run`` does it)."""
        self.dropped = self._deferred = True

    def drop(self, delay: float = 0.0) -> None:
        """Close the connection under the client (after ``delay`` s, so an answer can go out)."""
        self.dropped = True
        sock = getattr(self.transport, "sock", None)
        if sock is None:
            return

        def shut() -> None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        if delay:
            threading.Timer(delay, shut).start()
        else:
            shut()

    def run(self, name: str, key: str, func: Callable[[Fault | None], Any], *,
            span: tuple[int, int] | None = None, bytes_in: Callable[[Any], int] = lambda result: 0,
            bytes_out: Callable[[Any], int] = lambda result: 0) -> Any:
        """Serve one request: ``func(fault)`` does the work (and applies byte-counted faults)."""
        operation = SFTP_REQUESTS.get(name, name)
        if not self.observed:
            return func(None)
        if self.dropped:
            self.drop()
            return SFTP_FAILURE
        fault = HUB.take_fault("sftp", operation, key, span)
        result: Any = None
        status: int | None = None
        try:
            if fault is not None and fault.stall:
                time.sleep(fault.stall)
            if fault is not None and fault.status is not None:
                result = status = fault.status
            elif fault is not None and fault.reset_before is not None and (
                    fault.reset_before == 0 or span is None):
                self.defer_drop()
                result = SFTP_FAILURE
            else:
                result = func(fault)
                if self.dropped:
                    status = None
                elif fault is not None and span is None and (
                        fault.reset_after is not None or fault.cut is not None):
                    self.defer_drop()  # the work is done; the answer is lost
                else:
                    status = _status(result)
            return result
        finally:
            if HUB.recording:
                HUB.record(Call("sftp", operation, key, status, bytes_in(result), bytes_out(result), "",
                                f"{name} {key}", fault.kind if fault else None))
            if self._deferred:
                self._deferred = False
                self.drop()


def _status(result: Any) -> int:
    if isinstance(result, int):
        return result
    if isinstance(result, (bytes, str)) and not result:
        return SFTP_EOF
    return SFTP_OK


def flip(data: Any, offset: int, fault: Fault | None) -> Any:
    """``data`` (the file's bytes from ``offset``) with byte K of a ``corrupt`` fault inverted."""
    if fault is None or fault.corrupt is None or not isinstance(data, bytes):
        return data
    i = fault.corrupt - offset
    if not 0 <= i < len(data):
        return data
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]


def read_with_faults(session: Session, data: Any, offset: int, fault: Fault | None) -> Any:
    """A read's data, cut at byte K of a ``cut``/``reset_after`` fault (then the connection drops),
    or with byte K flipped by a ``corrupt`` fault."""
    data = flip(data, offset, fault)
    limit = fault.cut if fault is not None and fault.cut is not None else (
        fault.reset_after if fault is not None else None)
    if limit is None or not isinstance(data, bytes):
        return data
    session.drop(delay=0.2)  # later requests are refused at once; this answer still goes out
    return data[: max(0, limit - offset)]


def write_limit(data: bytes, offset: int, fault: Fault | None) -> bytes | None:
    """The part of a write that lands before a ``reset_before`` fault's byte K (``None``: all)."""
    if fault is None or not fault.reset_before:
        return None
    return data[: max(0, fault.reset_before - offset)]
