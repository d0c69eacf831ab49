"""Watch and disturb the calls code under test makes to the emulated services.

Every emulator reports each call it serves to one process-wide :data:`HUB`
(the HTTP emulators through the proxy in front of them, FTP and SFTP through
their command and request hooks) and asks it, before serving, whether an
injected fault fires. Tests reach it through two scopes:

``storage_requests()``
    records every call made while the block runs (a :class:`Recording`);
``storage_faults()``
    arms faults for the block (a :class:`~emulators.faults.FaultSet`) and
    disarms them at its end; ``.fired`` reports each call a fault hit.

Both are context managers for unittest/Django tests; the pytest plugin offers
them as the ``storage_requests`` and ``storage_faults`` fixtures. The hub lives
in the process that runs the emulators: start them in the test process (the
plugin and ``emulated_storages`` do) for a test to see their calls.
"""

from __future__ import annotations

import contextlib
import fnmatch
import logging
import os
import threading
from typing import Any, Callable, Iterable, Iterator

from .faults import Fault, FaultSet, FiredFault, parse_faults
from .ops import OPERATIONS, Call

logger = logging.getLogger("emulators.faults")


class Recording:
    """The calls made to the emulated services while a scope was open, oldest first.

    ``count("get")``, ``count("put", key="media/*")``, ``filter(...)`` and
    ``operations()`` answer the usual questions; the object is also a sequence of
    :class:`~emulators.ops.Call`. Filters take an operation name (or several), a
    key or key glob, a service and a status.
    """

    def __init__(self, services: Iterable[str] | None = None) -> None:
        self.services = frozenset(services) if services is not None else None
        self._calls: list[Call] = []
        self._lock = threading.Lock()

    def _add(self, call: Call) -> None:
        if self.services is None or call.service in self.services:
            with self._lock:
                self._calls.append(call)

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def filter(self, operation: str | Iterable[str] | None = None, *, key: str | None = None,
               service: str | None = None, status: int | None = None) -> list[Call]:
        """The calls matching every criterion given (``key`` may be a glob such as ``"media/*"``)."""
        wanted = {operation} if isinstance(operation, str) else set(operation) if operation else None
        return [call for call in self.calls
                if (wanted is None or call.operation in wanted)
                and (key is None or fnmatch.fnmatchcase(call.key, key))
                and (service is None or call.service == service)
                and (status is None or call.status == status)]

    def count(self, operation: str | Iterable[str] | None = None, **criteria: Any) -> int:
        """How many calls match (all calls when nothing is given)."""
        return len(self.filter(operation, **criteria))

    def operations(self, **criteria: Any) -> list[str]:
        """The operation of each matching call, in order: ``["put", "head", "get"]``."""
        return [call.operation for call in self.filter(**criteria)]

    def keys(self, operation: str | Iterable[str] | None = None, **criteria: Any) -> list[str]:
        return [call.key for call in self.filter(operation, **criteria)]

    def clear(self) -> None:
        """Forget the calls recorded so far (the scope stays open)."""
        with self._lock:
            self._calls.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls)

    def __getitem__(self, index: int) -> Call:
        return self.calls[index]

    def __repr__(self) -> str:
        calls = self.calls
        lines = "".join(f"\n  {call}" for call in calls)
        return f"<Recording of {len(calls)} call(s){':' if calls else ''}{lines}>"


class Hub:
    """Where every emulator reports its calls and asks for faults (one per process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._recordings: list[Recording] = []
        self._fault_sets: list[FaultSet] = []
        self._listeners: list[Callable[[FiredFault], None]] = []
        #: Whether emulators serve (and so report) in this process, and whether the
        #: process it was forked from had some (they keep serving, and reporting, there).
        self.serving = False
        self.inherited_from: int | None = None

    def note_serving(self) -> None:
        """Called by each proxy and FTP/SFTP server as it starts in this process."""
        self.serving = True

    def _after_fork(self) -> None:
        """In a forked child: the parent's scopes stay the parent's; its emulators serve there."""
        self._lock = threading.Lock()
        self._recordings, self._fault_sets = [], []
        if self.serving:
            self.inherited_from = os.getppid()
        self.serving = False

    def check_scope(self, what: str) -> None:
        """Refuse a scope that could see nothing: this process's emulators serve in its parent."""
        if self.inherited_from is not None and not self.serving:
            raise RuntimeError(
                f"{what}: the emulators this process uses were started by process {self.inherited_from} "
                "before it forked this one, and report their calls there, not here (manage.py test "
                "--parallel with EmulatedStoragesRunner starts them before the workers fork). Use "
                f"{what} without --parallel, or without that runner (each worker then starts its own).")

    @property
    def recording(self) -> bool:
        """Whether any scope records calls (hooks skip building records when none does)."""
        return bool(self._recordings)

    @property
    def faulting(self) -> bool:
        """Whether any scope has faults armed."""
        return bool(self._fault_sets)

    def record(self, call: Call) -> None:
        for recording in list(self._recordings):
            recording._add(call)

    def take_fault(self, service: str, operation: str, key: str = "",
                   span: tuple[int, int] | None = None) -> Fault | None:
        """The fault that fires on this call, if one does; it is reported as fired.
        ``span``: the (offset, length) of a file a read or write call moves (SFTP)."""
        if not self._fault_sets:
            return None
        for fault_set in list(self._fault_sets):
            hit = fault_set.take(service, operation, key, span)
            if hit is not None:
                logger.info("%s", hit)
                for listener in list(self._listeners):
                    listener(hit)
                return hit.fault
        return None

    # -- scopes ------------------------------------------------------------------------------
    def open_recording(self, recording: Recording) -> None:
        with self._lock:
            self._recordings = [*self._recordings, recording]

    def close_recording(self, recording: Recording) -> None:
        with self._lock:
            self._recordings = [r for r in self._recordings if r is not recording]

    def open_faults(self, fault_set: FaultSet) -> None:
        with self._lock:
            self._fault_sets = [*self._fault_sets, fault_set]

    def close_faults(self, fault_set: FaultSet) -> None:
        with self._lock:
            self._fault_sets = [f for f in self._fault_sets if f is not fault_set]

    def on_fired(self, listener: Callable[[FiredFault], None]) -> None:
        """Call ``listener(fired_fault)`` each time a fault fires (the CLI prints them)."""
        with self._lock:
            self._listeners = [*self._listeners, listener]


#: The process's hub.
HUB = Hub()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=HUB._after_fork)


@contextlib.contextmanager
def storage_requests(*services: str) -> Iterator[Recording]:
    """Record the calls made to the emulated services inside the block.

    ``with storage_requests() as calls: ...`` then ``calls.count("get")``.
    Naming services (``storage_requests("s3")``) records only theirs.
    """
    unknown = [s for s in services if s not in OPERATIONS]
    if unknown:
        raise ValueError(f"unknown service(s) {', '.join(unknown)}; valid: {', '.join(OPERATIONS)}")
    HUB.check_scope("storage_requests")
    recording = Recording(services or None)
    HUB.open_recording(recording)
    try:
        yield recording
    finally:
        HUB.close_recording(recording)


@contextlib.contextmanager
def storage_faults(spec: str | None = None) -> Iterator[FaultSet]:
    """Faults armed inside the block only: ``with storage_faults() as faults:
    faults.add("put", status=503)``, or ``storage_faults("s3:put=503")`` in ``--faults``
    syntax. At the end every fault is disarmed; ``faults.fired`` keeps the report."""
    HUB.check_scope("storage_faults")
    fault_set = FaultSet()
    if spec:
        fault_set.extend(parse_faults(spec))
    HUB.open_faults(fault_set)
    try:
        yield fault_set
    finally:
        HUB.close_faults(fault_set)
        if fault_set.fired:
            logger.debug("faults that fired in this scope:\n%s", fault_set.report())


def arm_for_run(faults: list[Fault], announce: Callable[[str], None]) -> FaultSet:
    """Arm ``faults`` until the process ends (``python -m emulators up --faults``);
    ``announce`` gets one line per armed fault, then one per call a fault hits."""
    fault_set = FaultSet()
    fault_set.extend(faults)
    HUB.open_faults(fault_set)
    HUB.on_fired(lambda hit: announce(f"fault fired: {hit}"))
    for armed in faults:
        announce(f"fault armed: {armed.describe()}")
    return fault_set


__all__ = ["HUB", "Call", "Fault", "FaultSet", "FiredFault", "Hub", "Recording", "parse_faults",
           "storage_faults", "storage_requests"]
