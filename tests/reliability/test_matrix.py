"""The reliability matrix: every target, with its default settings (short timeouts and small
parts aside), against the faults a network and a service produce, through the public
``storage_faults`` fixture.

Each case makes one call under one fault. The call either succeeds with the exact bytes,
or raises one of the core's exits (``storages.core.errors.EXITS``) and leaves nothing under
the name: no object, no partial or temporary file, no unfinished multipart upload. Never
short or corrupt bytes. And the same storage instance works on the next call.

``-rA`` (or the terminal summary) shows what each target did in each case.
"""

from __future__ import annotations

import random
from typing import Any, Callable

import pytest
from django.core.files.base import ContentFile

from storages.core import ChecksumMismatch, is_temp_name
from storages.core.errors import EXITS

from .services import NO_CHECKSUMS, SERVICE, SERVICES, STALL, holdings, part_size, small_options, tune

NAME = "matrix/file.bin"
SMALL = 48 * 1024
READ_SIZE = 200 * 1024
CUT = 70_000  # past the proxy's first 64 KiB chunk, before the end of a read

WRITES = ("write_5xx", "part_5xx", "reset_upload")
READS = ("read_5xx", "reset_download", "cut_download", "stall_read")
CORRUPT = ("corrupt_upload", "corrupt_download")
CASES = (*WRITES, *READS, *CORRUPT, "restart", "throttle_burst")


def payload(size: int, seed: str) -> bytes:
    """Bytes in which no stretch repeats: a resumed read from the wrong offset cannot pass."""
    return random.Random(seed).randbytes(size)


class Outcome:
    """What one call did: its result, or the error it raised (which must be one of the exits)."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        try:
            self.result = call()
        except Exception as exc:  # noqa: BLE001 - what leaves the storage is the subject
            self.error = exc
        if self.error is not None:
            where = f"{type(self.error).__module__}.{type(self.error).__qualname__}"
            assert isinstance(self.error, EXITS), f"{where} leaked: {self.error!r}"

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        return "ok" if self.ok else type(self.error).__name__


@pytest.fixture
def matrix(request, storage_factory, storage_target, storage_faults):
    target = storage_target.id
    service = SERVICE[target]
    if service is None:
        pytest.skip(f"{target}: libcloud's local driver is a directory on this machine, no service "
                    "call to disturb")
    options = {**storage_factory.options, **small_options(target, storage_factory.options)}
    storage = tune(target, storage_factory(**options))
    emulators = request.getfixturevalue("storage_emulators")
    outcomes: list[str] = []
    request.node.user_properties.append(("matrix", (target, outcomes)))
    yield Matrix(target, service, storage, options, storage_faults, emulators.get, outcomes)
    close = getattr(storage, "close", None)
    if close is not None:
        close()


class Matrix:
    def __init__(self, target: str, service: str, storage: Any, options: dict[str, Any], faults: Any,
                 emulator: Callable[[str], Any], outcomes: list[str]) -> None:
        self.target, self.service, self.storage, self.options = target, service, storage, options
        self.words = SERVICES[service]
        self.faults = faults
        self.emulator = emulator
        self.outcomes = outcomes

    def arm(self, operation: str, **fault: Any) -> None:
        self.faults.add(operation, service=self.service, **fault)

    def call(self, fn: Callable[[], Any]) -> Outcome:
        outcome = Outcome(fn)
        self.outcomes.append(str(outcome))
        return outcome

    def fired(self) -> None:
        assert self.faults.fired, f"no fault fired: {self.faults.report()}"
        self.faults.clear()

    def holdings(self) -> Any:
        return holdings(self.target, self.options, self.emulator)

    # -- the checks -----------------------------------------------------------------------
    def stored(self, outcome: Outcome, name: str, data: bytes) -> None:
        """After a write: the exact bytes under the name, or nothing left anywhere."""
        held = self.holdings()
        if outcome.ok:
            assert outcome.result == name
            assert held.read(name) == data, "the stored bytes differ from the bytes saved"
            assert held.pending == [] and [k for k in held.keys if is_temp_name(k)] == []
        else:
            assert held.leftovers(name) == [], f"a failed write left {held.leftovers(name)}"

    def read(self, name: str) -> Outcome:
        def read_all() -> bytes:
            with self.storage.open(name, "rb") as f:
                return f.read()
        return self.call(read_all)

    def next_call_works(self) -> None:
        data = payload(1000, f"{self.target}-next")
        assert self.storage.save("next.bin", ContentFile(data)) == "next.bin"
        with self.storage.open("next.bin") as f:
            assert f.read() == data


def _write(m: Matrix, case: str) -> None:
    size = SMALL
    if case == "write_5xx":
        m.arm(m.words.write, **m.words.unavailable)
    elif case == "part_5xx":
        size = 2 * part_size(m.target) + 1000
        if m.service == "ftp":  # one STOR: the server aborts the transfer midway (426)
            m.arm("stor", cut=size // 2)
        elif m.service == "sftp":  # a failure status for a write request in the middle
            m.arm("write", skip=3, **m.words.unavailable)
        else:  # Dropbox's session starts with the first part: its appends are the middle ones
            m.arm(m.words.part, skip=0 if m.service == "dropbox" else 1, **m.words.unavailable)
    else:
        m.arm(m.words.write, reset_before=SMALL // 2)
    data = payload(size, f"{m.target}-{case}")
    outcome = m.call(lambda: m.storage.save(NAME, ContentFile(data)))
    m.fired()
    m.stored(outcome, NAME, data)


def _read(m: Matrix, case: str) -> None:
    data = payload(READ_SIZE, f"{m.target}-{case}")
    assert m.storage.save(NAME, ContentFile(data)) == NAME
    fault = {"read_5xx": m.words.unavailable, "reset_download": {"reset_after": CUT},
             "cut_download": {"cut": CUT}, "stall_read": {"stall": STALL}}[case]
    m.arm(m.words.read, **fault)
    outcome = m.read(NAME)
    m.fired()
    if outcome.ok:
        assert outcome.result == data, f"{len(outcome.result)} bytes read, not the {len(data)} saved"


def _corrupt(m: Matrix, case: str) -> None:
    """A byte flipped on the way: the service refuses the upload, or the read sees the digest
    differ; either way a ChecksumMismatch (or the exact bytes, after a retry), never data."""
    if m.target in NO_CHECKSUMS:
        pytest.skip(f"{m.target}: {NO_CHECKSUMS[m.target]}")
    data = payload(SMALL if case == "corrupt_upload" else READ_SIZE, f"{m.target}-{case}")
    if case == "corrupt_upload":
        m.arm(m.words.write, corrupt=SMALL // 2)
        outcome = m.call(lambda: m.storage.save(NAME, ContentFile(data)))
    else:
        assert m.storage.save(NAME, ContentFile(data)) == NAME
        m.arm(m.words.read, corrupt=CUT)
        outcome = m.read(NAME)
    m.fired()
    if not outcome.ok:
        assert isinstance(outcome.error, ChecksumMismatch), f"{outcome.error!r} is not a ChecksumMismatch"
    if case == "corrupt_upload":
        m.stored(outcome, NAME, data)
    elif outcome.ok:
        assert outcome.result == data


def _restart(m: Matrix) -> None:
    if m.service not in ("ftp", "sftp"):
        pytest.skip(f"{m.target}: each call is its own HTTP request; no long-lived connection to restart")
    data = payload(SMALL, f"{m.target}-restart")
    assert m.storage.save(NAME, ContentFile(data)) == NAME
    m.emulator(m.service).restart()  # the storage's connection dies with the server
    outcome = m.read(NAME)
    assert outcome.ok, f"the first call after a restart failed: {outcome.error!r}"
    assert outcome.result == data
    m.emulator(m.service).restart()
    other = payload(SMALL, f"{m.target}-restart-2")
    outcome = m.call(lambda: m.storage.save("matrix/other.bin", ContentFile(other)))
    assert outcome.ok, f"the first write after a restart failed: {outcome.error!r}"
    m.stored(outcome, "matrix/other.bin", other)


def _burst(m: Matrix) -> None:
    """Three busy answers spread over a burst of calls (each call, retries included, has one
    chance in three of being turned away): each call succeeds or fails cleanly."""
    m.arm("*", times=3, probability=0.35, seed=3, **m.words.busy)
    files = {f"matrix/burst-{i}.bin": payload(2000, f"{m.target}-burst-{i}") for i in range(4)}
    saved = {name: m.call(lambda n=name, d=data: m.storage.save(n, ContentFile(d)))
             for name, data in files.items()}
    m.call(lambda: m.storage.listdir("matrix"))
    for name, data in files.items():
        m.call(lambda n=name: m.storage.exists(n))
        if saved[name].ok:
            outcome = m.read(name)
            if outcome.ok:
                assert outcome.result == data
    m.fired()
    for name, data in files.items():
        m.stored(saved[name], name, data)


@pytest.mark.parametrize("case", CASES)
def test_matrix(matrix, case):
    if case in WRITES:
        _write(matrix, case)
    elif case in READS:
        _read(matrix, case)
    elif case in CORRUPT:
        _corrupt(matrix, case)
    elif case == "restart":
        _restart(matrix)
    else:
        _burst(matrix)
    matrix.next_call_works()


def test_checksums_are_what_catch_the_damage(matrix):
    """With ``checksums = False`` (what bench/bench_checksums.py compares against) the same
    damaged byte goes through: the digests, not luck, made the corrupt cases errors."""
    m = matrix
    if m.target in NO_CHECKSUMS:
        pytest.skip(f"{m.target}: {NO_CHECKSUMS[m.target]}")
    m.storage = tune(m.target, type(m.storage)(**m.options))  # clients are built with it: a fresh one
    m.storage.checksums = False
    data = payload(SMALL, f"{m.target}-unchecked")
    m.arm(m.words.write, corrupt=SMALL // 2)
    assert m.storage.save(NAME, ContentFile(data)) == NAME
    m.fired()
    stored = m.holdings().read(NAME)
    assert len([i for i in range(len(data)) if stored[i] != data[i]]) == 1
    m.arm(m.words.read, corrupt=10)
    with m.storage.open(NAME) as f:
        assert f.read() != stored
    m.fired()
