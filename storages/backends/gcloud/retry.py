"""Retries of the GCS requests the storage makes itself, on transient errors.

The SDK retries its own calls (metadata, small uploads); the chunks of a resumable
upload and the streamed download are raw requests the storage sends, so they are
retried here, as Google's guidance says: on 408, 429 and 5xx answers and dropped
connections, with exponential backoff and jitter, a bounded number of times.

* An upload chunk that failed is not simply sent again: the session is asked how
  many bytes it holds (``Content-Range: bytes */*``) and the upload resumes there
  (:func:`session_status`); a session that was finalised before its answer was lost
  is done.
* A download's request is retried the same way; a transfer cut mid-body is resumed by
  the shared reader (``storages.core.resume``), whose new request this retries too.
"""

from __future__ import annotations

import logging
import random
import time
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import quote

from storages.core.errors import ObjectChanged

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


def media_get(client: Any, bucket: str, key: str, start: int, headers: dict[str, str],
              generation: int | None) -> Any:
    """The streamed response of a media GET of ``key`` (of that ``generation``, if given) from
    byte ``start``. The body is the raw bytes as stored: the shared reader decodes what the
    storage compressed."""
    url = (f"{client.api_endpoint}/download/storage/v1/b/{quote(bucket, safe='')}"
           f"/o/{quote(key, safe='')}?alt=media")
    if generation:
        url += f"&generation={generation}"
    headers = {**headers, "Accept-Encoding": "gzip"}
    if start:
        headers["Range"] = f"bytes={start}-"
    response = client._http.request("GET", url, headers=headers, stream=True, timeout=TIMEOUT)
    try:
        if start and response.status_code == 416:  # resuming: the object is now shorter than that
            raise ObjectChanged(f"GCS: {key!r} was replaced while it was read (it ends before byte {start})")
        check_status(response, (200, 206))
    except BaseException:
        response.close()
        raise
    return response
