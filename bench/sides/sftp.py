"""SFTP: paramiko on our SFTP emulator."""

from __future__ import annotations

import io
from typing import Any

from .base import NO_OVERWRITE, Backend, Raw, overwrite_option


class SFTP(Backend):
    name = emulator = "sftp"
    http = False
    ours_class = upstream_class = "storages.backends.sftpstorage.SFTPStorage"
    upstream_no_overwrite = NO_OVERWRITE.format("SFTPStorage")
    # The emulator's server (paramiko, Python) spends more CPU the more writes wait in its queue:
    # ours keeps 4 MiB in flight (what a real network's round trip needs), raw keeps the SSH
    # channel's window.
    variant = ("ours with a 1 MiB write window", {"write_window": 1024 * 1024}, ("save",))

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(**{**self.options, "params": dict(self.options["params"]), "location": f"/cmp-{ns}/",
                      **overwrite_option("file_overwrite", overwrite)})

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(host=self.options["host"], params=dict(self.options["params"]),
                   known_host_file=self.options["known_host_file"], root_path=f"/cmp-{ns}/")

    def raw(self, endpoint: str) -> Raw:
        return SFTPRaw(self.options)


class SFTPRaw(Raw):
    fill_threads = 1

    def __init__(self, options: dict[str, Any]) -> None:
        from bench.bench_sftp import raw_client

        self.sftp = raw_client(options)

    def create(self, ns: str) -> None:
        try:
            self.sftp.mkdir(f"/cmp-{ns}")
        except OSError:
            pass  # exists

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        if overwrite is False:  # exclusive create
            with self.sftp.open(f"/cmp-{ns}/{name}", "wx") as f:
                f.write(data)
            return
        self.sftp.putfo(io.BytesIO(data), f"/cmp-{ns}/{name}", confirm=False)

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self.sftp.putfo(source, f"/cmp-{ns}/{name}", confirm=False)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        from bench.common import Sink

        sink = Sink()
        self.sftp.getfo(f"/cmp-{ns}/{name}", sink)
        return sink.count

    def exists(self, ns: str, name: str) -> bool:
        try:
            self.sftp.stat(f"/cmp-{ns}/{name}")
        except FileNotFoundError:
            return False
        return True

    def size(self, ns: str, name: str) -> int:
        return self.sftp.stat(f"/cmp-{ns}/{name}").st_size

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        import stat

        entries = self.sftp.listdir_attr(f"/cmp-{ns}/{path.strip('/')}".rstrip("/"))
        dirs = [e.filename for e in entries if stat.S_ISDIR(e.st_mode or 0)]
        return dirs, [e.filename for e in entries if not stat.S_ISDIR(e.st_mode or 0)]

    def delete(self, ns: str, name: str) -> None:
        try:
            self.sftp.remove(f"/cmp-{ns}/{name}")
        except FileNotFoundError:
            pass
