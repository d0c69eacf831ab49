"""FTP: ftplib on the pyftpdlib emulator."""

from __future__ import annotations

import io
from typing import Any

from .base import MB, Backend, Raw, overwrite_option


class FTP(Backend):
    name = emulator = "ftp"
    http = False
    ours_class = upstream_class = "storages.backends.ftp.FTPStorage"

    def _location(self, ns: str) -> str:
        return f"{self.options['location'].rstrip('/')}/cmp-{ns}/"

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(location=self._location(ns), **overwrite_option("file_overwrite", overwrite))

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(location=self._location(ns), **overwrite_option("allow_overwrite", overwrite))

    def raw(self, endpoint: str) -> Raw:
        return FTPRaw(self.options["location"])


class FTPRaw(Raw):
    fill_threads = 1  # one ftplib connection

    def __init__(self, location: str) -> None:
        from bench.bench_ftp import raw_client

        self.ftp = raw_client(location)

    def create(self, ns: str) -> None:
        import ftplib

        try:
            self.ftp.mkd(f"/cmp-{ns}")
        except ftplib.error_perm:
            pass  # exists

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        self.ftp.storbinary(f"STOR /cmp-{ns}/{name}", io.BytesIO(data))

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self.ftp.storbinary(f"STOR /cmp-{ns}/{name}", source, blocksize=MB)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        received = [0]

        def count(data: bytes) -> None:
            received[0] += len(data)

        self.ftp.retrbinary(f"RETR /cmp-{ns}/{name}", count, blocksize=chunk or 8192)
        return received[0]

    def exists(self, ns: str, name: str) -> bool:
        import ftplib

        try:
            self.ftp.size(f"/cmp-{ns}/{name}")
        except ftplib.error_perm:
            return False
        return True

    def size(self, ns: str, name: str) -> int:
        return self.ftp.size(f"/cmp-{ns}/{name}")

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        entries = list(self.ftp.mlsd(f"/cmp-{ns}/{path.strip('/')}".rstrip("/"), facts=["type"]))
        dirs = [n for n, facts in entries if facts.get("type") == "dir"]
        return dirs, [n for n, facts in entries if facts.get("type") == "file"]

    def delete(self, ns: str, name: str) -> None:
        import ftplib

        try:
            self.ftp.delete(f"/cmp-{ns}/{name}")
        except ftplib.error_perm:
            pass
