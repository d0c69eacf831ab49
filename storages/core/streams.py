"""Readable streams over what SDKs return for a streamed response body."""

from __future__ import annotations

from typing import Any, Iterator


class ChunkStream:
    """``read(n)`` over an iterator of byte chunks (an SDK's streamed response body), holding
    one chunk at a time; ``close()`` closes the iterator if it can be."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = iter(chunks)
        self._chunk = b""
        self._offset = 0

    def read(self, n: int = -1) -> bytes:
        parts = []
        while n != 0:
            if self._offset >= len(self._chunk):
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self._chunk, self._offset = chunk, 0
                continue
            end = len(self._chunk) if n < 0 else min(len(self._chunk), self._offset + n)
            parts.append(self._chunk[self._offset:end])
            n -= (end - self._offset) if n > 0 else 0
            self._offset = end
        return b"".join(parts)

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
        self._chunk = b""


class ResponseStream:
    """``read(n)`` over the body of a streamed ``requests`` response as it arrives;
    ``decode_content`` says whether a ``Content-Encoding`` is undone on the way."""

    def __init__(self, response: Any, *, decode_content: bool) -> None:
        self._response = response
        self._decode = decode_content

    def read(self, n: int | None = -1) -> bytes:
        return self._response.raw.read(None if n is None or n < 0 else n, decode_content=self._decode)

    def close(self) -> None:
        self._response.close()
