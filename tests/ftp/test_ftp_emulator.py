"""The pyftpdlib emulator's lifecycle: start, stop, restart on the same port, reset,
per-instance authorizers, fault injection, options and environment."""

from __future__ import annotations

import ftplib
import io

import pytest
from django.core.files.base import ContentFile

from emulators.ftp import FTPEmulator, conformance_target
from storages.backends.ftp import FTPStorage


def test_lifecycle_stop_start_same_port(private_ftp):
    assert private_ftp.health()
    port, workdir = private_ftp.port, private_ftp.workdir
    private_ftp.stop()
    private_ftp.stop()  # idempotent
    assert not private_ftp.health() and not workdir.exists()
    with pytest.raises(OSError):
        ftplib.FTP().connect("127.0.0.1", port, timeout=2)
    private_ftp.start()
    assert private_ftp.port == port and private_ftp.health()
    assert private_ftp.root_dir.is_dir() and list(private_ftp.root_dir.iterdir()) == []


def test_restart_keeps_files_and_drops_clients(private_ftp):
    client = private_ftp.client()
    client.storbinary("STOR kept.txt", io.BytesIO(b"kept"))
    private_ftp.restart()
    with pytest.raises((EOFError, OSError)):
        client.voidcmd("NOOP")
    client.close()
    fresh = private_ftp.client()
    assert fresh.nlst() == ["kept.txt"]
    fresh.quit()


def test_reset_wipes_everything_without_a_restart(private_ftp):
    storage = FTPStorage(**private_ftp.storage_options())
    storage.save("a/b/c.txt", ContentFile(b"c"))
    storage.save("top.txt", ContentFile(b"t"))
    logins = private_ftp.count("USER")
    private_ftp.reset()
    assert list(private_ftp.root_dir.iterdir()) == []
    assert storage.listdir("") == ([], [])  # the same connection still works: no restart
    assert private_ftp.count("USER") == 0 and logins > 0  # records are cleared too
    storage.close()


def test_each_instance_has_its_own_authorizer_and_password(private_ftp):
    other = FTPEmulator()
    other.start()
    try:
        assert other.password != private_ftp.password
        ftp = ftplib.FTP(timeout=5)
        ftp.connect("127.0.0.1", other.port)
        with pytest.raises(ftplib.error_perm, match="530"):
            ftp.login(private_ftp.user, private_ftp.password)
        ftp.close()
        (other.root_dir / "only-in-other.txt").write_bytes(b"x")
        client = private_ftp.client()
        assert client.nlst() == []
        client.quit()
    finally:
        other.stop()


def test_anonymous_login_is_refused(private_ftp):
    ftp = ftplib.FTP(timeout=5)
    ftp.connect("127.0.0.1", private_ftp.port)
    with pytest.raises(ftplib.error_perm, match="530"):
        ftp.login()
    ftp.close()


def test_injected_faults_fire_once_and_are_recorded(private_ftp):
    private_ftp.inject("NLST", "450 Try later.", times=2)
    client = private_ftp.client()
    for _ in range(2):
        with pytest.raises(ftplib.error_temp, match="450"):
            client.nlst()
    assert client.nlst() == []
    assert private_ftp.fired == [("NLST", "450 Try later."), ("NLST", "450 Try later.")]
    private_ftp.inject("NOOP")  # 421 closes the control connection
    with pytest.raises(ftplib.error_temp, match="421"):
        client.voidcmd("NOOP")
    with pytest.raises((EOFError, OSError)):
        client.voidcmd("NOOP")
    client.close()


def test_options_env_and_conformance_target(private_ftp, monkeypatch):
    options = private_ftp.storage_options()
    assert options["location"].startswith(f"ftp://storages:{private_ftp.password}@127.0.0.1:{private_ftp.port}/")
    first = conformance_target(lambda name: private_ftp)
    second = conformance_target(lambda name: private_ftp)
    assert first[0] == second[0] == "storages.backends.ftp.FTPStorage"
    assert first[1]["location"] != second[1]["location"]
    monkeypatch.setenv("FTP_STORAGE_LOCATION", private_ftp.env()["FTP_STORAGE_LOCATION"])
    storage = FTPStorage()  # a non-Django-settings user: the environment is enough
    storage.save("env.txt", ContentFile(b"env"))
    assert (private_ftp.root_dir / "env.txt").read_bytes() == b"env"
    storage.close()


def test_tls_emulator_options_trust_its_certificate(ftps_emulator):
    options = ftps_emulator.storage_options()
    assert options["location"].startswith("ftps://") and options["ca_file"].endswith(".pem")
    assert "PRIVATE KEY" not in open(options["ca_file"]).read()
    assert ftps_emulator.health()
