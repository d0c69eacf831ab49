"""The SFTP emulator's lifecycle: start/stop/restart on the same port, reset, options, clients."""

import os
import socket
import threading

import paramiko
import pytest

from emulators.base import wait_until
from emulators.sftp import SFTPEmulator


def test_lifecycle_and_same_port_restart():
    emulator = SFTPEmulator()
    assert not emulator.health()
    emulator.start()
    emulator.start()  # idempotent
    try:
        assert emulator.health()
        port, known_hosts = emulator.port, emulator.known_hosts.read_text()
        assert known_hosts.startswith(f"[127.0.0.1]:{port} ssh-ed25519 ")
        emulator.local_path("/kept.txt").write_bytes(b"kept")
        emulator.restart()
        assert emulator.port == port and emulator.health()
        assert emulator.known_hosts.read_text() == known_hosts  # same host key
        assert emulator.local_path("/kept.txt").read_bytes() == b"kept"
        emulator.stop(keep_data=True)
        assert not emulator.health()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        emulator.start()
        assert emulator.port == port
    finally:
        workdir = emulator.workdir
        emulator.stop()
        emulator.stop()  # idempotent
    assert not workdir.exists()
    assert emulator.port is None


def test_reset_wipes_files_without_restart(own_sftp):
    client = own_sftp.client()
    client.mkdir("/d")
    client.open("/d/f.txt", "w").close()
    transport = client.get_channel().get_transport()
    own_sftp.reset()
    assert client.listdir("/") == []
    assert transport.is_active()  # same connection: no restart happened
    assert own_sftp.root_dir.exists() and own_sftp.known_hosts.exists()
    client.close()


def test_options_point_the_backend_at_fresh_directories(own_sftp):
    first, second = own_sftp.new_namespace(), own_sftp.new_namespace()
    assert first["location"] != second["location"]
    assert first["location"].startswith("/") and first["location"].endswith("/")
    assert first["params"]["password"] == own_sftp.password
    assert own_sftp.storage_options(key=True)["params"]["key_filename"] == str(own_sftp.client_key_file)
    assert os.path.exists(first["known_host_file"])
    assert own_sftp.backend == "storages.backends.sftpstorage.SFTPStorage"
    assert own_sftp.env()["SFTP_PORT"] == str(own_sftp.port)


def test_password_and_key_auth_and_refusals(own_sftp):
    own_sftp.client().close()
    own_sftp.client(key=True).close()
    with pytest.raises(paramiko.AuthenticationException):
        own_sftp.client(password="nope")
    with pytest.raises(paramiko.AuthenticationException):
        own_sftp.client(username="someone-else")


def test_rename_follows_sftp_v3_and_posix_rename_replaces(own_sftp):
    client = own_sftp.client()
    for name, data in (("/a", b"a"), ("/b", b"b")):
        with client.open(name, "w") as f:
            f.write(data)
    with pytest.raises(OSError):
        client.rename("/a", "/b")  # v3: the target exists
    assert client.open("/b").read() == b"b"
    client.posix_rename("/a", "/b")
    assert client.open("/b").read() == b"a" and client.listdir("/") == ["b"]
    client.rename("/b", "/c")
    assert client.listdir("/") == ["c"]
    client.close()


def test_several_concurrent_clients(own_sftp):
    errors = []

    def work(i):
        try:
            client = own_sftp.client()
            with client.open(f"/c{i}.bin", "w") as f:
                f.write(bytes([i]) * 100_000)
            assert client.open(f"/c{i}.bin").read() == bytes([i]) * 100_000
            client.close()
        except Exception as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(os.listdir(own_sftp.root_dir)) == [f"c{i}.bin" for i in range(6)]


def test_stop_closes_open_connections(own_sftp):
    client = own_sftp.client()
    transport = client.get_channel().get_transport()
    own_sftp.stop(keep_data=True)
    transport.join(5)
    assert not transport.is_active()
    own_sftp.start()


def test_drop_connections_cuts_clients_and_keeps_serving(own_sftp):
    client = own_sftp.client()
    transport = client.get_channel().get_transport()
    assert wait_until(lambda: own_sftp.connection_count() == 1, 5)
    own_sftp.drop_connections()
    transport.join(5)
    assert not transport.is_active() and own_sftp.connection_count() == 0
    again = own_sftp.client()  # the listener is still there
    again.open("/after.txt", "w").close()
    assert (own_sftp.root_dir / "after.txt").exists()
    again.close()
