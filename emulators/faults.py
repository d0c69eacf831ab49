"""Faults a test asks the emulators to inject, and the spec syntax of ``--faults``.

A :class:`Fault` says *which* calls (operation, optionally service and key
pattern, the next ``times`` of them after ``skip``, or each with a
``probability`` from a seeded generator) and *what* happens to them:

``status=N``        the service answers N with its own error body (FTP: reply N; SFTP: status N)
``reset_before=K``  the connection is reset once K bytes of the upload reached the service
                    (0: before the service sees the request)
``reset_after=K``   the service does the work; the connection is reset after K bytes of its
                    answer reached the client (0: the answer is lost entirely)
``cut=K``           the answer's body stops after K bytes and the connection closes
``corrupt=K``       the byte at offset K of the body the call moves is flipped (the upload's
                    body for calls that send bytes, else the answer's), and the call goes on
``stall=T``         wait T seconds first (alone, or before one of the above)

A :class:`FaultSet` holds the faults of one scope (a test, a ``with`` block, a
CLI run) and the report of every fault that fired.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from .ops import OPERATIONS

ACTIONS = ("status", "reset_before", "reset_after", "cut", "corrupt")
#: ``times`` not given: 1, or every call when a ``probability`` is given.
_ONCE_OR_ALWAYS: Any = object()


@dataclass(eq=False)
class Fault:
    """Which calls to disturb and how; ``fired`` counts the calls it hit."""

    operation: str = "*"
    service: str | None = None
    key: str | None = None
    status: int | None = None
    code: str | None = None
    message: str | None = None
    reset_before: int | None = None
    reset_after: int | None = None
    cut: int | None = None
    corrupt: int | None = None
    stall: float = 0.0
    times: int | None = _ONCE_OR_ALWAYS
    skip: int = 0
    probability: float | None = None
    seed: int | None = None
    fired: int = field(default=0, init=False)
    seen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        actions = [name for name in ACTIONS if getattr(self, name) is not None]
        if len(actions) > 1:
            raise ValueError(f"a fault does one thing; got {', '.join(actions)}")
        if not actions and not self.stall:
            raise ValueError("a fault needs status=, reset_before=, reset_after=, cut=, corrupt= or stall=")
        if self.service is not None and self.service not in OPERATIONS:
            raise ValueError(f"unknown service {self.service!r}; valid: {', '.join(OPERATIONS)}")
        if self.operation != "*" and self.service not in (None, "ftp"):  # FTP: any command's name too
            if self.operation not in OPERATIONS[self.service]:
                raise ValueError(f"{self.service} has no operation {self.operation!r}; "
                                 f"valid: {', '.join(OPERATIONS[self.service])}")
        if not (self.operation == "*" or self.operation.replace("_", "").isalpha()):
            raise ValueError(f"unknown operation {self.operation!r}")
        for name in ("reset_before", "reset_after", "cut", "corrupt", "skip"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.probability is not None and not 0 < self.probability <= 1:
            raise ValueError(f"probability must be in (0, 1], got {self.probability}")
        if self.times is _ONCE_OR_ALWAYS:
            self.times = None if self.probability is not None else 1
        self._random = random.Random(self.seed)

    @property
    def kind(self) -> str:
        """The action's name: ``status``, ``reset_before``, ``reset_after``, ``cut``, ``corrupt`` or
        ``stall``."""
        for name in ACTIONS:
            if getattr(self, name) is not None:
                return name
        return "stall"

    def describe(self) -> str:
        """The fault in ``--faults`` syntax."""
        target = f"{self.service}:{self.operation}" if self.service else self.operation
        steps = []
        if self.stall:
            steps.append(f"stall:{self.stall:g}")
        if self.status is not None:
            steps.append(f"{self.status}/{self.code}" if self.code else str(self.status))
        for name in ("reset_before", "reset_after", "cut", "corrupt"):
            if getattr(self, name) is not None:
                steps.append(f"{name}:{getattr(self, name)}")
        options = []
        if self.times != 1:
            options.append(f"times={'inf' if self.times is None else self.times}")
        if self.skip:
            options.append(f"skip={self.skip}")
        if self.probability is not None:
            options.append(f"p={self.probability:g}")
        if self.seed is not None:
            options.append(f"seed={self.seed}")
        if self.key is not None:
            options.append(f"key={self.key}")
        return ",".join([f"{target}={'+'.join(steps)}", *options])

    @property
    def threshold(self) -> int | None:
        """K of a fault that acts once K bytes have moved (``None`` for the others)."""
        for value in (self.cut, self.reset_after, self.reset_before, self.corrupt):
            if value:
                return value
        return None

    def _matches(self, service: str, operation: str, key: str, span: tuple[int, int] | None = None) -> bool:
        """``span`` (offset, length) is the part of a file a read/write call moves: a fault
        with a byte threshold K matches only the call that reaches past byte K."""
        return ((self.service is None or self.service == service)
                and (self.operation == "*" or self.operation == operation)
                and (self.key is None or fnmatch.fnmatchcase(key, self.key))
                and (span is None or self.threshold is None or span[0] + span[1] > self.threshold))

    def _take(self) -> bool:
        """Called for a matching call: does the fault fire on it?"""
        if self.times is not None and self.fired >= self.times:
            return False
        self.seen += 1
        if self.seen <= self.skip:
            return False
        if self.probability is not None and self._random.random() >= self.probability:
            return False
        self.fired += 1
        return True




@dataclass(frozen=True)
class FiredFault:
    """One call a fault hit: which fault, on which service, operation and key."""

    fault: Fault
    service: str
    operation: str
    key: str

    @property
    def kind(self) -> str:
        return self.fault.kind

    def __str__(self) -> str:
        return f"{self.fault.describe()} fired on {self.service} {self.operation} {self.key!r}"


class FaultSet:
    """The faults of one scope. ``add()`` arms one; ``fired`` reports each call hit."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._fired: list[FiredFault] = []
        self._lock = threading.Lock()

    def add(self, operation: str = "*", **options: Any) -> Fault:
        """Arm a fault: ``add("get", status=503, times=2)``, ``add("put", reset_before=0)``,
        ``add("retr", cut=1000, service="ftp")``. Returns it (``.fired`` counts its hits)."""
        return self.add_fault(Fault(operation, **options))

    def add_fault(self, armed: Fault) -> Fault:
        with self._lock:
            self._faults.append(armed)
        return armed

    def extend(self, faults: list[Fault]) -> None:
        for armed in faults:
            self.add_fault(armed)

    def clear(self) -> None:
        """Disarm every fault and forget what fired."""
        with self._lock:
            self._faults.clear()
            self._fired.clear()

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    @property
    def fired(self) -> list[FiredFault]:
        """Every call a fault hit, oldest first."""
        with self._lock:
            return list(self._fired)

    def unfired(self) -> list[Fault]:
        """Armed faults that hit nothing (yet)."""
        return [armed for armed in self.faults if not armed.fired]

    def take(self, service: str, operation: str, key: str,
             span: tuple[int, int] | None = None) -> FiredFault | None:
        """The fault that fires on this call, if any (recorded in ``fired``)."""
        with self._lock:
            for armed in self._faults:
                if armed._matches(service, operation, key, span) and armed._take():
                    hit = FiredFault(armed, service, operation, key)
                    self._fired.append(hit)
                    return hit
        return None

    def report(self) -> str:
        """What fired, and what never did, one line each."""
        lines = [str(hit) for hit in self.fired]
        lines += [f"{armed.describe()} never fired" for armed in self.unfired()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<FaultSet {len(self.faults)} armed, {len(self.fired)} fired>"


# -- the --faults spec ----------------------------------------------------------------------

SPEC_HELP = """\
--faults RULE[;RULE...]   RULE = [SERVICE:]OPERATION=ACTION[+ACTION][,OPTION...]
  ACTION: N or N/CODE (status N, optional service error code), reset (= reset_before:0),
          reset_before:K, reset_after:K, cut:K, corrupt:K (bytes), stall:T (seconds)
  OPTION: times=N|inf, skip=N, p=PROBABILITY, seed=N, key=GLOB
  e.g.  s3:put=503/SlowDown,times=2;  gcs:get=cut:1000,p=0.5,seed=7;  ftp:login=stall:2+421
"""


def parse_faults(spec: str) -> list[Fault]:
    """Faults from ``--faults`` syntax (see :data:`SPEC_HELP`); ValueError says what is wrong."""
    faults = []
    for rule in filter(None, (part.strip() for part in spec.split(";"))):
        try:
            faults.append(_parse_rule(rule))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"bad fault {rule!r}: {exc}") from None
    return faults


def _parse_rule(rule: str) -> Fault:
    target, sep, rest = rule.partition("=")
    if not sep or not rest:
        raise ValueError("expected [SERVICE:]OPERATION=ACTION")
    service, _, operation = target.strip().rpartition(":")
    action, *options = rest.split(",")
    fields: dict[str, Any] = {}
    for step in action.split("+"):
        name, _, value = step.strip().partition(":")
        status, _, code = name.partition("/")
        if status.isdigit():
            fields["status"] = int(status)
            if code:
                fields["code"] = code
        elif name == "reset" and not value:
            fields["reset_before"] = 0
        elif name in ("reset_before", "reset_after", "cut", "corrupt"):
            fields[name] = int(value)
        elif name == "stall":
            fields["stall"] = float(value)
        else:
            raise ValueError(f"unknown action {step!r}")
    for option in options:
        name, _, value = option.strip().partition("=")
        if name == "times":
            fields["times"] = None if value in ("inf", "*") else int(value)
        elif name == "skip":
            fields["skip"] = int(value)
        elif name in ("p", "probability"):
            fields["probability"] = float(value)
        elif name == "seed":
            fields["seed"] = int(value)
        elif name == "key":
            fields["key"] = value
        else:
            raise ValueError(f"unknown option {option!r}")
    return Fault(operation.strip() or "*", service=service.strip() or None, **fields)
