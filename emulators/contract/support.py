"""What the conformance tests feed storages (imported, not fixtures)."""

from __future__ import annotations

import io
from typing import Any


class FailingSource(io.RawIOBase):
    """A source that yields ``limit`` bytes, then fails with ``OSError("source failed ...")``
    (a disk or network error in the middle of a save)."""

    def __init__(self, limit: int) -> None:
        self.limit, self.sent = limit, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.sent >= self.limit:
            raise OSError(f"source failed after {self.sent} bytes")
        n = min(len(buffer), self.limit - self.sent)
        buffer[:n] = b"z" * n
        self.sent += n
        return n


def send_direct_upload(grant: dict[str, Any], data: bytes, *, url: str | None = None,
                       fields: dict[str, str] | None = None,
                       headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Upload ``data`` as a client that is not the storage does: with the grant's JSON
    (``DirectUpload.as_dict()``) and the standard library only. ``url``/``fields``/``headers``
    replace the grant's (a test breaking one condition). Returns (status, body)."""
    import urllib.error
    import urllib.request
    import uuid

    url = url or grant["url"]
    request_headers = dict(headers if headers is not None else grant["headers"])
    if grant["method"] == "POST":
        boundary = uuid.uuid4().hex
        form = fields if fields is not None else grant["fields"]
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
                 for name, value in form.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{grant["file_field"]}"; '
                     f'filename="upload"\r\nContent-Type: {grant["content_type"]}\r\n\r\n'.encode()
                     + data + f"\r\n--{boundary}--\r\n".encode())
        data = b"".join(parts)
        request_headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    request = urllib.request.Request(url, data=data, method=grant["method"], headers=request_headers)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
