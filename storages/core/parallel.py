"""Uploading parts on a few threads, with a hard bound on the parts held in memory.

Every backend whose service takes the parts of one upload in any order uses
:class:`PartPool` (S3 multipart uploads, Azure staged blocks). The others send
their parts one after another, because their protocol is sequential: a GCS
resumable session and a Dropbox upload session each take the next bytes at the
current offset only, and libcloud's ``upload_object_via_stream`` reads its
iterator in order.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable


class PartPool:
    """Runs ``submit(fn, *args)`` calls concurrently, at most ``max_in_flight`` at once.

    ``submit`` blocks while the pool is full, so memory stays bounded by
    ``max_in_flight`` parts. ``wait()`` returns every result in submission order
    and raises the first error; ``cancel()`` drops what has not started and
    waits for the rest. With ``max_in_flight <= 1`` calls run inline.
    """

    def __init__(self, max_in_flight: int) -> None:
        self.max_in_flight = max(1, int(max_in_flight))
        self._executor: ThreadPoolExecutor | None = None
        self._pending: deque[Future[Any]] = deque()
        self.results: list[Any] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        if self.max_in_flight == 1:
            self.results.append(fn(*args))
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.max_in_flight, thread_name_prefix="storages-part")
        while len(self._pending) >= self.max_in_flight:
            self._collect_one()
        self._pending.append(self._executor.submit(fn, *args))

    def _collect_one(self) -> None:
        future = self._pending.popleft()
        self.results.append(future.result())

    def wait(self) -> list[Any]:
        try:
            while self._pending:
                self._collect_one()
        finally:
            self._shutdown()
        return self.results

    def cancel(self) -> None:
        for future in self._pending:
            future.cancel()
        for future in self._pending:
            if not future.cancelled():
                future.exception()  # wait; the error is already being handled by the caller
        self._pending.clear()
        self._shutdown()

    def _shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
