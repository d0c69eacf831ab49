"""Emulators started lazily, once, for a whole test session or CLI run."""

from __future__ import annotations

import threading
from typing import Any

from .base import Emulator, EmulatorUnavailable
from .modes import live_allowed, make_emulator, resolve_mode


class EmulatorSession:
    """Starts each emulator the first time it is asked for and stops them all at the end.

    ``mode`` says how (see emulators/modes.py): ``native`` (default), ``docker`` or
    ``external``; ``None`` reads $STORAGE_EMULATORS. ``live`` allows the external mode to
    use real cloud services (default: $STORAGE_LIVE).
    """

    def __init__(self, mode: str | None = None, *, live: bool | None = None) -> None:
        self.mode = resolve_mode(mode)
        self.live = live_allowed(live)
        self._emulators: dict[str, Emulator] = {}
        self._failures: dict[str, Exception] = {}
        self._lock = threading.RLock()

    def get(self, name: str) -> Emulator:
        """The started emulator for ``name``; raises the start error again on later calls."""
        with self._lock:
            if name in self._failures:
                raise self._failures[name]
            emulator = self._emulators.get(name)
            if emulator is None:
                emulator = make_emulator(name, self.mode, live=self.live)
                try:
                    emulator.start()
                except Exception as exc:
                    emulator.stop()
                    self._failures[name] = exc
                    raise
                self._emulators[name] = emulator
            return emulator

    def stop(self) -> None:
        with self._lock:
            errors = []
            for emulator in reversed(list(self._emulators.values())):
                try:
                    emulator.stop()
                except Exception as exc:  # stop the others too, then report
                    errors.append(exc)
            self._emulators.clear()
            if self.mode == "docker":
                from .containers import stop_watchdogs

                stop_watchdogs()
            if errors:
                raise errors[0]

    def __enter__(self) -> "EmulatorSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["EmulatorSession", "EmulatorUnavailable"]
