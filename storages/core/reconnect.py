"""Reconnect and retry once, for services spoken over a long-lived connection (FTP, SFTP).

A pooled or per-thread connection may have been dropped while it sat idle (the
server restarted, an idle timeout, the network). The first call on it then fails;
:class:`Reconnecting` runs that call once more on a new connection. Only a dropped
connection is retried, and only once: any other error, or a second failure, is the
caller's.
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

C = TypeVar("C")
T = TypeVar("T")


class Reconnecting(Generic[C]):
    """Runs calls on connections of type ``C``; subclasses say how their service gets,
    checks and gives back a connection."""

    def _acquire(self) -> C:
        """A connection to run a call on."""
        raise NotImplementedError

    def _dropped(self, conn: C, error: Exception) -> bool:
        """Whether ``error`` means ``conn`` was gone (so the call may run again)."""
        raise NotImplementedError

    def _reconnect(self, conn: C, error: Exception) -> C:
        """Close the dropped ``conn``; return a new connection."""
        raise NotImplementedError

    def _release(self, conn: C, error: BaseException | None) -> None:
        """Give ``conn`` back after a call (``error``: what the call raised)."""

    def holding(self, fn: Callable[[C], T]) -> tuple[C, T]:
        """``fn(conn)``, retried once on a new connection if ``conn`` had been dropped.

        On success the caller keeps the connection and gives it back with
        ``_release`` when done; on failure it has been given back already."""
        conn = self._acquire()
        try:
            return conn, fn(conn)
        except Exception as exc:
            if not self._dropped(conn, exc):
                self._release(conn, exc)
                raise
            conn = self._reconnect(conn, exc)
        except BaseException as exc:
            self._release(conn, exc)
            raise
        try:
            return conn, fn(conn)
        except BaseException as exc:
            self._release(conn, exc)
            raise

    def run(self, fn: Callable[[C], T]) -> T:
        """``fn(conn)`` on a connection given back afterwards, retried once if it had been dropped."""
        conn, result = self.holding(fn)
        self._release(conn, None)
        return result
