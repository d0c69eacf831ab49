"""Upload sessions (start / append_v2 / finish) and receiving request bodies to disk."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Callable

from .wire import ApiFailure, ContentHasher, union


@dataclass
class Session:
    id: str
    path: Path
    created: float
    offset: int = 0
    closed: bool = False
    finished: bool = False
    hasher: ContentHasher = field(default_factory=ContentHasher)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Sessions:
    """Mixin for :class:`~.store.Store`: upload sessions, kept as files under ``root/sessions``."""

    _lock: threading.RLock
    root: Path
    session_lifetime: float
    sessions: dict[str, Session]

    def start_session(self) -> Session:
        now = time.time()
        with self._lock:
            for stale in [s for s in self.sessions.values() if now - s.created > self.session_lifetime]:
                self.sessions.pop(stale.id, None)
                stale.path.unlink(missing_ok=True)
            sid = "pid_upload_session:" + secrets.token_urlsafe(24)
            session = Session(sid, self.root / "sessions" / secrets.token_hex(16), now)
            session.path.touch()
            self.sessions[sid] = session
            return session

    def get_session(self, session_id: str) -> Session:
        with self._lock:
            session = self.sessions.get(session_id)
        if session is None:
            raise ApiFailure(*union("not_found"))
        return session

    @staticmethod
    def check_session(session: Session, offset: int, *, has_data: bool) -> None:
        """Raise the UploadSessionLookupError an append/finish at ``offset`` gets (hold session.lock)."""
        if session.finished:
            raise ApiFailure(*union("not_found"))
        if session.closed and has_data:
            raise ApiFailure(*union("closed"))
        if offset != session.offset:
            error = {".tag": "incorrect_offset", "correct_offset": session.offset}
            raise ApiFailure(error, ["incorrect_offset"])

    def end_session(self, session: Session) -> None:
        with self._lock:
            session.finished = True
            self.sessions.pop(session.id, None)
        session.path.unlink(missing_ok=True)


def receive(read: Callable[[int], bytes], out: BinaryIO,
            overall: ContentHasher | None = None) -> tuple[int, str]:
    """Copy a request body into ``out``; returns (bytes received, content hash of this body)."""
    chunk_hash = ContentHasher()
    count = 0
    while True:
        data = read(1 << 20)
        if not data:
            return count, chunk_hash.hexdigest()
        out.write(data)
        chunk_hash.update(data)
        if overall is not None:
            overall.update(data)
        count += len(data)
