"""Every use of paramiko's private SFTP API, in one place.

The pipelined streams of ``.transfer`` keep many requests in flight on one open
file, with the request/reply calls paramiko's own prefetch uses:
``SFTPClient._async_request``, ``SFTPClient._read_response`` (which hands each
reply to the ``_async_response`` method of the object that sent the request),
``SFTPClient._convert_status``, and ``SFTPFile.handle`` / ``SFTPFile.sftp``; and
``SFTPFile._close(async_=True)``, paramiko's close for a file the garbage collector
closes (:func:`close_unwaited`). A batch of
reads (:meth:`Requests.read_many`) does what ``_async_request`` does for each request
(``_lock``, ``request_number``, ``_expecting``) and sends them all with one ``_write_all``.
Request sizes come from the channel's ``in_max_packet_size`` / ``out_max_packet_size``.

Checked against paramiko 3.4.0 (the oldest we support), 3.5.1, 4.0.0, 5.0.0 and
5.1.0 (installed here): these calls, and ``paramiko/sftp_client.py``,
``sftp_file.py`` and ``sftp.py`` as a whole, are the same in all of them. Check
again before allowing a newer major version.
"""

from __future__ import annotations

from typing import Any

#: Bytes per read/write request, as paramiko sends them (``SFTPFile.MAX_REQUEST_SIZE``).
REQUEST_SIZE = 32768
#: What paramiko's ``Channel`` keeps below the peer's maximum packet size for each send.
PACKET_MARGIN = 64
#: Smallest request worth sizing to a packet (else: ``REQUEST_SIZE``).
MIN_FITTED_SIZE = 4096


def _fitted(max_packet: int, overhead: int) -> int:
    room = min(REQUEST_SIZE, max_packet - PACKET_MARGIN - overhead)
    return room if room >= MIN_FITTED_SIZE else REQUEST_SIZE


def write_size(handle: Any) -> int:
    """Data bytes per write request so that each request fits one SSH packet of the channel
    (``Channel.out_max_packet_size``, the server's maximum). A full 32 KiB write is a few
    bytes too big for the usual 32 KiB packet, so it would cost two packets, two MACs and
    two ``send()`` calls; a slightly smaller one costs one."""
    # length, type, id, handle (length-prefixed), offset, data length
    overhead = 4 + 1 + 4 + 4 + len(handle.handle) + 8 + 4
    return _fitted(getattr(handle.sftp.sock, "out_max_packet_size", 0), overhead)


def read_size(handle: Any) -> int:
    """Bytes per read request so that each reply fits one SSH packet of the channel
    (``Channel.in_max_packet_size``, ours, which the server's sends respect)."""
    overhead = 4 + 1 + 4 + 4  # length, type, id, data length
    return _fitted(getattr(handle.sftp.sock, "in_max_packet_size", 0), overhead)


def close_unwaited(handle: Any) -> None:
    """Close a remote file without waiting for the server's reply (paramiko's own close for
    a collected file: the reply, and an error in it, is dropped when it arrives). For a file
    whose close cannot matter: the request travels with the next one on the connection, one
    round trip fewer. The handle counts as closed, so it is never closed twice."""
    handle._close(async_=True)


class Requests:
    """Read and write requests on one open remote file, replies kept until asked for.

    paramiko hands every reply to ``_async_response`` whoever reads it off the
    wire, so other calls on the same connection in between are safe, and an
    error reply is raised by :meth:`reply`, never dropped."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self._sftp = handle.sftp
        self._replies: dict[int, Any] = {}

    def read(self, offset: int, length: int) -> int:
        """Send a read request; returns its number."""
        from paramiko.sftp import CMD_READ, int64

        return self._sftp._async_request(self, CMD_READ, self._handle.handle, int64(offset), length)

    def read_many(self, pieces: list[tuple[int, int]]) -> list[int]:
        """Send a read request per ``(offset, length)`` in one write to the channel (one SSH
        packet for dozens of requests, where ``read`` costs a packet, a MAC and a system call
        each); returns their numbers."""
        import struct

        from paramiko.message import Message
        from paramiko.sftp import CMD_READ

        sftp, handle, nums, packets = self._sftp, self._handle.handle, [], []
        with sftp._lock:
            for offset, length in pieces:
                msg = Message()
                msg.add_int(sftp.request_number)
                msg.add_string(handle)
                msg.add_int64(offset)
                msg.add_int(length)
                body = msg.asbytes()
                packets.append(struct.pack(">IB", len(body) + 1, CMD_READ) + body)
                nums.append(sftp.request_number)
                sftp._expecting[sftp.request_number] = self
                sftp.request_number += 1
        sftp._write_all(b"".join(packets))
        return nums

    def write(self, offset: int, data: Any) -> int:
        """Send a write request; returns its number."""
        from paramiko.sftp import CMD_WRITE, int64

        return self._sftp._async_request(self, CMD_WRITE, self._handle.handle, int64(offset), data)

    def reply(self, num: int) -> bytes:
        """The data of request ``num`` (``b""`` for a status), waiting for it; raises the
        server's error for that request."""
        while num not in self._replies:
            self._sftp._read_response()
        reply = self._replies.pop(num)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def _async_response(self, kind: int, msg: Any, num: int) -> None:
        """paramiko's callback with the reply to one of our requests."""
        from paramiko.sftp import CMD_DATA

        if kind == CMD_DATA:
            self._replies[num] = msg.get_string()
            return
        try:
            self._sftp._convert_status(msg)
            self._replies[num] = b""
        except EOFError:  # a read past the end
            self._replies[num] = b""
        except Exception as exc:  # the server's error for this request, raised to the caller
            self._replies[num] = exc
