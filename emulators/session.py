"""Emulators started lazily, once, for a whole test session or CLI run."""

from __future__ import annotations

import threading
from typing import Any

from .base import Emulator, EmulatorUnavailable
from .registry import emulator_class


class EmulatorSession:
    """Starts each emulator the first time it is asked for and stops them all at the end."""

    def __init__(self) -> None:
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
                emulator = emulator_class(name)()
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
            for emulator in reversed(list(self._emulators.values())):
                emulator.stop()
            self._emulators.clear()

    def __enter__(self) -> "EmulatorSession":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["EmulatorSession", "EmulatorUnavailable"]
