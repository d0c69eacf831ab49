"""Retries of the GCS requests the storage makes itself, on transient errors.

The SDK retries its own calls (metadata, small uploads); the chunks of a resumable
upload and the streamed download are raw requests the storage sends, so they are
retried here, as Google's guidance says: on 408, 429 and 5xx answers and dropped
connections, with exponential backoff and jitter, a bounded number of times.

* An upload chunk that failed is not simply sent again: the session is asked how
  many bytes it holds (``Content-Range: bytes */*``) and the upload resumes there
  (:func:`session_status`); a session that was finalised before its answer was lost
  is done.
* A download cut mid-body resumes with a ranged GET at the offset delivered, if the
  object is still the same generation (:class:`ResumingBody`); otherwise the read fails.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import quote

from storages.core.errors import StorageError

T = TypeVar("T")

logger = logging.getLogger("storages.backends.gcloud")

TIMEOUT = 60  # seconds, for every request to GCS


def check_status(response: Any, expected: tuple[int, ...]) -> Any:
    """Raise the SDK's exception for an unexpected status of a raw request."""
    if response.status_code not in expected:
        from google.api_core.exceptions import from_http_response

        raise from_http_response(response)
    return response


TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Attempts per request (the first one included), and the backoff between them.
ATTEMPTS = 6
FIRST_DELAY, MAX_DELAY = 0.1, 8.0


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (a raw request's error, or the SDK exception of its answer) is worth a retry."""
    import requests
    from urllib3.exceptions import HTTPError as Urllib3Error

    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code in TRANSIENT_STATUSES
    dropped = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
               Urllib3Error, ConnectionError, TimeoutError)
    return isinstance(exc, dropped)


def delays(attempts: int = ATTEMPTS) -> Iterator[float]:
    """The waits between ``attempts`` tries: exponential, jittered, capped."""
    for attempt in range(attempts - 1):
        yield min(MAX_DELAY, FIRST_DELAY * 2 ** attempt) * random.uniform(0.5, 1.0)


def retried(call: Callable[[], T], what: str) -> T:
    """``call()``, tried again after each transient error until :data:`ATTEMPTS` tries."""
    for delay in delays():
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            pause(exc, what, delay)
    return call()


def pause(exc: BaseException, what: str, delay: float) -> None:
    """Log a transient failure of ``what`` and wait ``delay`` seconds before the next try."""
    logger.info("GCS %s failed (%s); retrying in %.2fs", what, exc, delay)
    time.sleep(delay)


#: What :func:`session_status` returns for a session that already made its object.
FINISHED = -1


def session_status(client: Any, session: str, timeout: float) -> int:
    """Bytes a resumable session holds (its 308's ``Range``), or :data:`FINISHED`."""
    def ask() -> int:
        response = client._http.request("PUT", session, data=b"", headers={"Content-Range": "bytes */*"},
                                        timeout=timeout, allow_redirects=False)
        if response.status_code in (200, 201):
            return FINISHED
        check_status(response, (308,))
        return persisted(response.headers.get("Range"))

    return retried(ask, "upload status query")


def persisted(range_header: str | None) -> int:
    """Bytes the service holds, from a resumable 308's ``Range: bytes=0-N``."""
    if not range_header or "-" not in range_header:
        return 0
    return int(range_header.rsplit("-", 1)[1]) + 1


def media_get(client: Any, bucket: str, key: str, start: int, headers: dict[str, str], generation: int | None,
              match: str | None) -> Any:
    """The streamed response of a media GET of ``key`` from byte ``start``: of that
    ``generation``, and only if the generation read is still ``match`` (412 otherwise).
    The body is the raw bytes as stored: the shared reader decodes what the storage compressed."""
    url = (f"{client.api_endpoint}/download/storage/v1/b/{quote(bucket, safe='')}"
           f"/o/{quote(key, safe='')}?alt=media")
    if generation:
        url += f"&generation={generation}"
    elif match:
        url += f"&ifGenerationMatch={match}"
    headers = {**headers, "Accept-Encoding": "gzip"}
    if start:
        headers["Range"] = f"bytes={start}-"
    response = client._http.request("GET", url, headers=headers, stream=True, timeout=TIMEOUT)
    try:
        check_status(response, (200, 206))
    except BaseException:
        response.close()
        raise
    return response


class ResumingBody:
    """The undecoded body of a streamed download that resumes where it was cut.

    ``reopen(offset, generation)`` makes a new ranged request, of that generation only, and
    returns its response; the object replaced meanwhile (412, 416, another generation)
    is an error, never bytes stitched on."""

    def __init__(self, response: Any, start: int, reopen: Callable[[int, str | None], Any]) -> None:
        self._response = response
        self._offset = start
        self._reopen = reopen
        self._generation = response.headers.get("X-Goog-Generation")

    def read(self, n: int = -1) -> bytes:
        amount = None if n is None or n < 0 else n
        tries = delays()
        while True:
            try:
                data = self._response.raw.read(amount, decode_content=False)
                break
            except Exception as exc:
                delay = next(tries, None)
                if delay is None or not is_transient(exc):
                    raise
                pause(exc, f"download at byte {self._offset}", delay)
                self._resume()
        self._offset += len(data)
        return data

    def _resume(self) -> None:
        from google.api_core.exceptions import PreconditionFailed, RequestRangeNotSatisfiable

        self._response.close()
        try:
            response = self._reopen(self._offset, self._generation)
        except (PreconditionFailed, RequestRangeNotSatisfiable) as exc:
            raise StorageError(f"GCS: the object was replaced while it was read ({exc.code}); open it "
                               "again") from exc
        generation = response.headers.get("X-Goog-Generation")
        if self._generation and generation and generation != self._generation:
            response.close()
            raise StorageError(f"GCS: the object was replaced while it was read (generation "
                               f"{self._generation}, now {generation}); open it again")
        self._response = response

    def close(self) -> None:
        self._response.close()
