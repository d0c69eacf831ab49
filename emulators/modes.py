"""How a session obtains its emulators: ``native`` (in this process / a child process, the
default), ``docker`` (containers of docker-compose.test.yml, emulators/containers.py) or
``external`` (services already running somewhere, from environment variables,
emulators/external.py). ``EmulatorSession(mode=...)``, ``$STORAGE_EMULATORS``,
``pytest --storage-emulators`` and ``python -m emulators up --emulators`` all choose it.
"""

from __future__ import annotations

import os
from typing import Any

from .base import Emulator, EmulatorUnavailable
from .registry import emulator_class

MODES = ("native", "docker", "external")
MODE_ENV = "STORAGE_EMULATORS"
LIVE_ENV = "STORAGE_LIVE"


def resolve_mode(mode: str | None = None) -> str:
    """``mode``, else $STORAGE_EMULATORS, else ``native``; anything else is a ValueError."""
    value = (mode or os.environ.get(MODE_ENV) or "native").strip().lower()
    if value not in MODES:
        raise ValueError(f"unknown emulator mode {value!r} (from {'the argument' if mode else MODE_ENV}): "
                         f"choose one of {', '.join(MODES)}")
    return value


def live_allowed(live: bool | None = None) -> bool:
    """``live``, else whether $STORAGE_LIVE is set to something other than ''/0."""
    return live if live is not None else os.environ.get(LIVE_ENV, "") not in ("", "0")


def make_emulator(name: str, mode: str, *, live: bool = False) -> Emulator:
    """A new, not yet started emulator for ``name`` in ``mode``."""
    if mode == "docker":
        from .containers import container_emulator

        return container_emulator(name)
    if mode == "external":
        from .external import external_emulator

        return external_emulator(name, live=live)
    return emulator_class(name)()


class NativeOnly(EmulatorUnavailable):
    """A feature of the in-process emulator (fault hooks, a fake's store, recorded commands)
    that a container or external service does not have. The plugin skips a test that uses it."""


class native_only:
    """Class attribute of a container/external emulator: reading it raises NativeOnly
    naming the feature; assignments (the native ``__init__`` sets defaults) are ignored."""

    def __init__(self, why: str) -> None:
        self.why = why
        self.attr = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        raise NativeOnly(f"{type(obj).__name__}.{self.attr}: {self.why}; "
                         "only the native emulator (--storage-emulators=native) has it")

    def __set__(self, obj: Any, value: Any) -> None:
        pass
