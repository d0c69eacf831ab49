"""The FTP emulator's observation and fault hooks (pyftpdlib handler methods).

Each command is classified (emulators.ops.FTP_COMMANDS), checked against the
hub's faults, and reported when its final reply goes out, with the bytes its
data transfer moved. Faults: ``status`` answers that reply code instead (421
also closes the connection); ``reset_before`` drops the connection before the
command runs (for STOR, once K bytes arrived); ``reset_after`` runs it and
drops the connection instead of the reply (for RETR/LIST, once K bytes went
out); ``cut`` closes the data connection after K bytes with a 426 reply; ``corrupt``
flips byte K of the transfer (STOR's upload, RETR's download); ``stall`` delays the
command without blocking the server's other clients.
"""

from __future__ import annotations

import socket
import struct
from typing import Any, Callable

from .faults import Fault
from .observe import HUB
from .ops import DIRECT_USER, Call, ftp_operation

#: Operations whose data flows from the server, and into it.
SENDING = {"retr", "list"}
RECEIVING = {"stor"}
_PATH_COMMANDS = {"STOR", "APPE", "RETR", "DELE", "MKD", "XMKD", "RMD", "XRMD", "RNFR", "RNTO", "SIZE",
                  "MDTM", "MLST", "MLSD", "LIST", "NLST", "CWD", "XCWD", "STAT"}
_MESSAGES = {421: "Service not available, closing control connection.", 425: "Can't open data connection.",
             426: "Connection closed; transfer aborted.", 450: "Requested file action not taken.",
             451: "Requested action aborted: local error in processing.", 452: "Insufficient storage space.",
             530: "Authentication failed.", 550: "Requested action not taken."}


class _Call:
    """The call in progress on one control connection."""

    __slots__ = ("operation", "key", "request", "fault")

    def __init__(self, operation: str, key: str, request: str, fault: Fault | None) -> None:
        self.operation, self.key, self.request, self.fault = operation, key, request, fault


def _key(handler: Any, command: str, arg: str) -> str:
    if command in ("USER", "PASS"):
        return handler.username or (arg if command == "USER" else "")
    if command not in _PATH_COMMANDS or handler.fs is None:
        return ""
    if not arg or arg.startswith("-"):
        return handler.fs.cwd
    return handler.fs.ftpnorm(arg)


def _record(handler: Any, call: _Call, status: int | None) -> None:
    if HUB.recording:
        received, sent = handler.__dict__.pop("_observed_transfer", (0, 0))
        HUB.record(Call("ftp", call.operation, call.key, status, received, sent, "", call.request,
                        call.fault.kind if call.fault else None))
    else:
        handler.__dict__.pop("_observed_transfer", None)


def drop(handler: Any) -> None:
    """Close the control connection with a TCP reset (no reply), reporting the call in progress
    first, so a test that looks right after its client saw the drop finds it."""
    data_channel = getattr(handler, "data_channel", None)
    call = handler.__dict__.pop("_observed_call", None)
    if call is not None:
        if data_channel is not None:
            handler._observed_transfer = (data_channel.tot_bytes_received, data_channel.tot_bytes_sent)
        _record(handler, call, None)
    if data_channel is not None:
        data_channel._resp = ()
        data_channel.close()
        handler.__dict__.pop("_observed_transfer", None)
    try:
        handler.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except (OSError, AttributeError):
        pass
    handler.close()


def pre_process_command(handler: Any, line: str, command: str, arg: str, run: Callable[[], None]) -> None:
    """Classify the command, let a fault fire, then ``run()`` it (pyftpdlib's own processing)."""
    if handler.username == DIRECT_USER or (command == "USER" and arg == DIRECT_USER):
        handler.__dict__.pop("_observed_call", None)
        run()  # a client(direct=True) session: not observed
        return
    operation = ftp_operation(command)
    key = _key(handler, command, arg)
    fault = HUB.take_fault("ftp", operation, key)
    request = f"{command} {'*****' if command == 'PASS' else arg}".rstrip()
    handler._observed_call = _Call(operation, key, request, fault)
    if fault is None:
        run()
        return

    def act() -> None:
        if handler._closed:
            return
        if fault.status is not None:
            message = fault.message or _MESSAGES.get(fault.status, "Injected fault.")
            handler.respond(f"{fault.status} {message}")
            if fault.status == 421:
                handler.close_when_done()
        elif fault.reset_before is not None and (fault.reset_before == 0 or operation not in RECEIVING):
            drop(handler)
        else:
            run()

    if fault.stall:
        handler.ioloop.call_later(fault.stall, act, _errback=handler.handle_error)
    else:
        act()


def respond(handler: Any, base: Callable[..., None], response: str, *args: Any, **kwargs: Any) -> None:
    """Report the call when its final reply goes out (or drop the connection instead)."""
    call = handler.__dict__.get("_observed_call")
    if call is not None and not response.startswith("1"):
        fault = call.fault
        if fault is not None and fault.status is None and (
                (fault.reset_after is not None and call.operation not in SENDING)
                or (fault.cut is not None and call.operation not in SENDING | RECEIVING)):
            drop(handler)
            return
        del handler._observed_call
        try:
            status: int | None = int(response[:3])
        except ValueError:
            status = None
        _record(handler, call, status)
    base(handler, response, *args, **kwargs)


def data_handler(base: type) -> type:
    """A DTP handler class that applies byte-counted faults to the transfer in progress."""

    class ObservedDTPHandler(base):  # type: ignore[misc, valid-type]
        _tripped = False

        def _fault(self, names: tuple[str, ...]) -> tuple[Fault, int] | None:
            call = self.cmd_channel.__dict__.get("_observed_call")
            fault = call.fault if call is not None else None
            if fault is None:
                return None
            for name in names:
                if getattr(fault, name) is not None:
                    return fault, getattr(fault, name)
            return None

        def send(self, data: bytes) -> int:
            flipped = self._fault(("corrupt",))
            if flipped is not None:
                data = _flip(data, flipped[1] - self.tot_bytes_sent)
            limited = self._fault(("cut", "reset_after"))
            if limited is not None:
                room = limited[1] - self.tot_bytes_sent
                if room <= 0:
                    self._trip(limited[0])
                    return 0
                data = data[:room]
            return super().send(data)

        def recv(self, buffer_size: int) -> bytes:
            from pyftpdlib.ioloop import _RetryError

            if self._tripped:
                raise _RetryError
            chunk = super().recv(buffer_size)
            flipped = self._fault(("corrupt",))
            if flipped is not None:
                chunk = _flip(chunk, flipped[1] - self.tot_bytes_received)
            limited = self._fault(("cut", "reset_before"))
            if limited is not None and self.tot_bytes_received + len(chunk) >= limited[1]:
                chunk = chunk[: max(0, limited[1] - self.tot_bytes_received)]
                self.ioloop.call_later(0, self._trip, limited[0], _errback=self.handle_error)
                self._tripped = True
                if not chunk:
                    raise _RetryError
            return chunk

        def readable(self) -> bool:
            return not self._tripped and super().readable()

        def _trip(self, fault: Fault) -> None:
            if self._closed:
                return
            self._tripped = True
            self.transfer_finished = False
            if fault.cut is not None:
                self._resp = ("426 Connection closed; transfer aborted.", self.log)
                self.close()
            else:
                drop(self.cmd_channel)

        def close(self) -> None:
            if not self._closed:
                self.cmd_channel._observed_transfer = (self.tot_bytes_received, self.tot_bytes_sent)
            super().close()

    return ObservedDTPHandler


def _flip(data: bytes, i: int) -> bytes:
    """``data`` with its byte ``i`` inverted (unchanged when ``i`` is outside it)."""
    if not 0 <= i < len(data):
        return data
    data = bytes(data)
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
