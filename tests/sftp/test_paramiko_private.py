"""The one module that uses paramiko's private SFTP API, against the installed paramiko
and the real SFTP server: the calls it relies on exist, replies come back in any order,
and an error reply is raised, never dropped."""

from __future__ import annotations

import pytest
from paramiko.sftp_client import SFTPClient
from paramiko.sftp_file import SFTPFile

from storages.backends.sftpstorage.paramiko_private import (
    REQUEST_SIZE,
    Requests,
    close_unwaited,
    read_size,
    write_size,
)


def test_the_private_calls_it_relies_on_exist():
    for name in ("_async_request", "_read_response", "_convert_status", "_write_all"):
        assert callable(getattr(SFTPClient, name)), name
    assert SFTPFile.MAX_REQUEST_SIZE == REQUEST_SIZE
    from paramiko.sftp import CMD_DATA, CMD_READ, CMD_WRITE, int64  # noqa: F401


def test_pipelined_requests_on_the_real_server(own_sftp):
    client = own_sftp.client()
    data = bytes(range(256)) * 1024  # 256 KiB: eight requests
    with client.open("/p.bin", "w") as handle:
        requests = Requests(handle)
        sent = [requests.write(offset, data[offset:offset + REQUEST_SIZE])
                for offset in range(0, len(data), REQUEST_SIZE)]
        for num in reversed(sent):  # replies are kept until asked for, in any order
            assert requests.reply(num) == b""
    with client.open("/p.bin", "r") as handle:
        requests = Requests(handle)
        reads = [requests.read(offset, REQUEST_SIZE) for offset in range(0, len(data), REQUEST_SIZE)]
        assert b"".join(requests.reply(num) for num in reads) == data
        assert requests.reply(requests.read(len(data), 10)) == b""  # past the end
        # A batch of reads in one write: each reply is its own piece, whatever the order asked.
        batch = requests.read_many([(offset, 1000) for offset in range(0, len(data), REQUEST_SIZE)])
        assert len(set(batch)) == len(batch) == 8
        assert [requests.reply(num) for num in reversed(batch)] == [
            data[offset:offset + 1000] for offset in reversed(range(0, len(data), REQUEST_SIZE))]
        assert requests.reply(requests.read(0, 4)) == data[:4]  # single requests still follow
        with pytest.raises(OSError):  # the server refuses a write on a file opened for reading
            requests.reply(requests.write(0, b"nope"))
    assert (own_sftp.root_dir / "p.bin").read_bytes() == data
    client.close()


def test_a_close_not_waited_for_goes_with_the_next_request(own_sftp, monkeypatch):
    """The close is sent and the handle counts as closed at once; the next request gets its
    own reply (the close's is dropped on the way), and nothing is closed twice."""
    client = own_sftp.client()
    closes: list[bytes] = []
    original = SFTPClient._async_request

    def watched(self, fileobj, t, *args):
        from paramiko.sftp import CMD_CLOSE

        num = original(self, fileobj, t, *args)
        if t == CMD_CLOSE:
            closes.append((args[0], num))
        return num

    monkeypatch.setattr(SFTPClient, "_async_request", watched)
    handle = client.open("/claim.txt", "wx")
    close_unwaited(handle)
    [(closed, num)] = closes
    assert handle._closed and closed == handle.handle
    assert num in client._expecting  # sent, its reply not waited for
    client.posix_rename("/claim.txt", "/moved.txt")  # the next request: its own reply
    assert client.stat("/moved.txt").st_size == 0
    assert num not in client._expecting  # its reply came first, and was dropped
    handle.close()
    del handle  # neither an explicit close nor the collector sends a second one
    assert len(closes) == 1
    assert (own_sftp.root_dir / "moved.txt").exists() and not (own_sftp.root_dir / "claim.txt").exists()
    client.close()


def test_each_request_and_reply_is_one_ssh_packet(own_sftp, monkeypatch):
    """Writes and reads are sized to the channel's packets: a full 32 KiB request (paramiko's
    size) is a few bytes over a 32 KiB packet and would be sent as two."""
    from paramiko.channel import Channel

    from storages.backends.sftpstorage.transfer import ReadStream, WriteStream

    client = own_sftp.client()
    data = bytes(range(256)) * 4096  # 1 MiB
    sends: list[int] = []
    original = Channel.send
    monkeypatch.setattr(Channel, "send", lambda self, s: sends.append(len(s)) or original(self, s))
    with client.open("/fit.bin", "w") as handle:
        size = write_size(handle)
        assert 4096 <= size < REQUEST_SIZE
        stream = WriteStream(handle, 256 * 1024)
        stream.write(data)
        stream.flush()
    writes = [n for n in sends if n > 4096]  # the last, short request aside
    assert len(writes) == len(data) // size  # one send (one packet) per request, none split
    assert all(n <= handle.sftp.sock.out_max_packet_size - 64 for n in writes)
    with client.open("/fit.bin", "r") as handle:
        assert read_size(handle) + 13 <= handle.sftp.sock.in_max_packet_size - 64
        stream = ReadStream(handle, 0, len(data), 256 * 1024)
        assert stream.read() == data
    assert (own_sftp.root_dir / "fit.bin").read_bytes() == data
    client.close()
