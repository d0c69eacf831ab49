"""Each fault kind fires on the FTP and SFTP emulators (handler hooks), is reported, and does
what it says — seen by raw ftplib and paramiko clients."""

from __future__ import annotations

import ftplib
import io
import time

import paramiko
import pytest

DATA = bytes(range(256)) * 400  # 100 KiB
DROPPED = (ConnectionError, EOFError, OSError, paramiko.SSHException)


def _fired(faults, service, operation, kind):
    assert [(h.service, h.operation, h.kind) for h in faults.fired] == [(service, operation, kind)]


@pytest.fixture
def ftp(ftp_emulator):
    client = ftp_emulator.client()
    client.mkd(base := f"/{ftp_emulator.__class__.__name__}-{time.monotonic_ns()}")
    client.cwd(base)
    client.base = base
    yield client
    try:
        client.close()
    except OSError:
        pass


def _on_ftp_disk(ftp_emulator, ftp, name):
    return ftp_emulator.root_dir / ftp.base.lstrip("/") / name


# -- FTP ------------------------------------------------------------------------------------------

def test_ftp_status_answers_the_reply_code(ftp, ftp_emulator, storage_faults, storage_requests):
    storage_faults.add("stor", status=452, service="ftp")
    with pytest.raises(ftplib.error_temp, match="452"):
        ftp.storbinary("STOR full.bin", io.BytesIO(DATA))
    assert not _on_ftp_disk(ftp_emulator, ftp, "full.bin").exists()
    _fired(storage_faults, "ftp", "stor", "status")
    call = storage_requests.filter("stor")[0]
    assert (call.key, call.status, call.fault) == (f"{ftp.base}/full.bin", 452, "status")


def test_ftp_login_refused(ftp_emulator, storage_faults, storage_requests):
    storage_faults.add("login", status=530, service="ftp")
    with pytest.raises(ftplib.error_perm, match="530"):
        ftp_emulator.client()
    _fired(storage_faults, "ftp", "login", "status")
    assert storage_requests.filter("login")[0].status == 530
    ftp_emulator.client().close()  # once only


def test_ftp_reset_before_the_command_runs(ftp, ftp_emulator, storage_faults, storage_requests):
    storage_faults.add("stor", reset_before=0, service="ftp")
    with pytest.raises(DROPPED):
        ftp.storbinary("STOR gone.bin", io.BytesIO(DATA))
    assert not _on_ftp_disk(ftp_emulator, ftp, "gone.bin").exists()
    _fired(storage_faults, "ftp", "stor", "reset_before")
    assert storage_requests.filter("stor")[0].status is None


def test_ftp_reset_mid_upload_after_k_bytes(ftp, ftp_emulator, storage_faults, storage_requests):
    storage_faults.add("stor", reset_before=30_000, service="ftp")
    with pytest.raises(DROPPED):
        ftp.storbinary("STOR half.bin", io.BytesIO(DATA))
    assert _on_ftp_disk(ftp_emulator, ftp, "half.bin").stat().st_size == 30_000  # what a dying server leaves
    _fired(storage_faults, "ftp", "stor", "reset_before")
    call = storage_requests.filter("stor")[0]
    assert (call.status, call.bytes_in) == (None, 30_000)


def test_ftp_reset_after_the_work_is_done(ftp, ftp_emulator, storage_faults):
    ftp.storbinary("STOR doomed.bin", io.BytesIO(b"x"))
    storage_faults.add("delete", reset_after=0, service="ftp")
    with pytest.raises(DROPPED):
        ftp.delete("doomed.bin")
    assert not _on_ftp_disk(ftp_emulator, ftp, "doomed.bin").exists()  # deleted; the reply was lost
    _fired(storage_faults, "ftp", "delete", "reset_after")


def test_ftp_reset_after_k_bytes_of_a_download(ftp, storage_faults, storage_requests):
    ftp.storbinary("STOR down.bin", io.BytesIO(DATA))
    storage_faults.add("retr", reset_after=20_000, service="ftp")
    received = bytearray()
    with pytest.raises(DROPPED):
        ftp.retrbinary("RETR down.bin", received.extend)
    assert bytes(received) == DATA[:20_000]
    _fired(storage_faults, "ftp", "retr", "reset_after")
    assert storage_requests.filter("retr")[0].bytes_out == 20_000


def test_ftp_cut_download_is_426_after_k_bytes(ftp, storage_faults, storage_requests):
    ftp.storbinary("STOR cut.bin", io.BytesIO(DATA))
    storage_faults.add("retr", cut=12_345, service="ftp")
    received = bytearray()
    with pytest.raises(ftplib.error_temp, match="426"):
        ftp.retrbinary("RETR cut.bin", received.extend)
    assert bytes(received) == DATA[:12_345]
    _fired(storage_faults, "ftp", "retr", "cut")
    call = storage_requests.filter("retr")[0]
    assert (call.status, call.bytes_out, call.fault) == (426, 12_345, "cut")
    ftp.retrbinary("RETR cut.bin", (whole := bytearray()).extend)  # the connection still works
    assert bytes(whole) == DATA


def test_ftp_cut_upload(ftp, ftp_emulator, storage_faults):
    storage_faults.add("stor", cut=10_000, service="ftp")
    with pytest.raises((ftplib.error_temp, *DROPPED)):
        ftp.storbinary("STOR short.bin", io.BytesIO(DATA))
    assert _on_ftp_disk(ftp_emulator, ftp, "short.bin").stat().st_size == 10_000
    _fired(storage_faults, "ftp", "stor", "cut")


def test_ftp_stall_does_not_block_other_clients(ftp, ftp_emulator, storage_faults, storage_requests):
    storage_faults.add("list", stall=0.5, service="ftp")
    started = time.monotonic()
    other = ftp_emulator.client()  # served while the listing below waits
    other.close()
    ftp.nlst()
    assert time.monotonic() - started >= 0.5
    _fired(storage_faults, "ftp", "list", "stall")
    assert storage_requests.filter("list")[0].fault == "stall"


# -- SFTP -----------------------------------------------------------------------------------------

@pytest.fixture
def sftp(sftp_emulator):
    client = sftp_emulator.client()
    base = f"/ns-{time.monotonic_ns()}"
    client.mkdir(base)
    client.base = base
    yield client
    try:  # a test that had the server drop the connection leaves nothing to say goodbye on
        client.close()
    except DROPPED:
        pass
    client._ssh_client.close()


def test_sftp_status_answers_the_status_code(sftp, storage_faults, storage_requests):
    storage_faults.add("open", status=3, service="sftp")  # SSH_FX_PERMISSION_DENIED
    with pytest.raises(PermissionError):
        sftp.open(f"{sftp.base}/denied.txt", "wb")
    _fired(storage_faults, "sftp", "open", "status")
    call = storage_requests.filter("open")[0]
    assert (call.key, call.status) == (f"{sftp.base}/denied.txt", 3)


def test_sftp_login_refused(sftp_emulator, storage_faults, storage_requests):
    storage_faults.add("login", status=3, service="sftp")
    with pytest.raises(paramiko.AuthenticationException):
        sftp_emulator.client()
    _fired(storage_faults, "sftp", "login", "status")
    assert storage_requests.filter("login")[0].status == 3


def test_sftp_reset_before_the_request_runs(sftp, sftp_emulator, storage_faults):
    storage_faults.add("mkdir", reset_before=0, service="sftp")
    with pytest.raises(DROPPED):
        sftp.mkdir(f"{sftp.base}/never")
    assert not sftp_emulator.local_path(f"{sftp.base}/never").exists()
    _fired(storage_faults, "sftp", "mkdir", "reset_before")


def test_sftp_reset_mid_upload_after_k_bytes(sftp, sftp_emulator, storage_faults, storage_requests):
    storage_faults.add("write", reset_before=50_000, service="sftp")
    with pytest.raises(DROPPED):
        sftp.putfo(io.BytesIO(DATA), f"{sftp.base}/half.bin")
    assert sftp_emulator.local_path(f"{sftp.base}/half.bin").stat().st_size == 50_000
    _fired(storage_faults, "sftp", "write", "reset_before")
    assert sum(call.bytes_in for call in storage_requests.filter("write")) == 50_000


def test_sftp_reset_after_the_work_is_done(sftp, sftp_emulator, storage_faults):
    sftp.putfo(io.BytesIO(b"x"), f"{sftp.base}/doomed.txt")
    storage_faults.add("delete", reset_after=0, service="sftp")
    with pytest.raises(DROPPED):
        sftp.remove(f"{sftp.base}/doomed.txt")
    assert not sftp_emulator.local_path(f"{sftp.base}/doomed.txt").exists()
    _fired(storage_faults, "sftp", "delete", "reset_after")


def test_sftp_cut_download_after_k_bytes(sftp, storage_faults, storage_requests):
    sftp.putfo(io.BytesIO(DATA), f"{sftp.base}/cut.bin")
    storage_faults.add("read", cut=40_000, service="sftp")
    with pytest.raises(DROPPED):
        with sftp.open(f"{sftp.base}/cut.bin") as f:
            f.read()
    _fired(storage_faults, "sftp", "read", "cut")
    reads = storage_requests.filter("read")
    assert sum(call.bytes_out for call in reads) == 40_000
    assert reads[-1].fault == "cut" and reads[-1].status is None


def test_sftp_stall(sftp, storage_faults, storage_requests):
    storage_faults.add("list", stall=0.4, service="sftp")
    started = time.monotonic()
    assert sftp.listdir(sftp.base) == []
    assert time.monotonic() - started >= 0.4
    _fired(storage_faults, "sftp", "list", "stall")
