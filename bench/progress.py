"""A one-line progress bar on stderr for the benchmarks' long phases; silent when stderr is not a TTY."""

from __future__ import annotations

import shutil
import sys
import time
from typing import TextIO


class Progress:
    """``Progress(total)``; ``step(label)`` before each unit of work, ``close()`` at the end.

    Draws ``[#####.....]  12/40  0:42  label`` on one line of ``stream`` (stderr), only
    when it is a terminal, so piped or CI output carries no control characters.
    """

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.total = max(1, total)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._start = time.monotonic()
        self._drawn = False

    def step(self, label: str) -> None:
        """Announce the next unit of work (counts the previous one as done)."""
        if self._drawn:
            self.done = min(self.total, self.done + 1)
        self._draw(label)

    def _draw(self, label: str) -> None:
        if not self.enabled:
            return
        elapsed = int(time.monotonic() - self._start)
        width = shutil.get_terminal_size((80, 20)).columns
        bar_width = 24
        filled = bar_width * self.done // self.total
        head = f"[{'#' * filled}{'.' * (bar_width - filled)}] {self.done}/{self.total} " \
               f"{elapsed // 60}:{elapsed % 60:02d} "
        line = (head + label)[: max(10, width - 1)]
        self.stream.write("\r\033[K" + line)
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self.enabled and self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
        self._drawn = False
