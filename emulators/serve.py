"""``python -m emulators.serve ftp|sftp|dropbox``: one of this project's emulators as a
standalone server, on a given address and port, until SIGTERM/SIGINT.

The entry point of the ``django-storages/emulators`` image (docker-compose.test.yml).
Credentials come from the environment (``STORAGES_FTP_USER``/``_PASSWORD``,
``STORAGES_SFTP_USER``/``_PASSWORD``/``_AUTHORIZED_KEY``, ``STORAGES_DROPBOX_TOKEN``);
``--root`` serves FTP/SFTP files from a directory (a bind mount) instead of a temp dir.
Prints ``READY <name> <host>:<port>`` once serving; the SFTP server first prints
``HOSTKEY <type> <base64>``, its host key, which clients pin.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

from .dropbox import ACCESS_TOKEN, APP_KEY, APP_SECRET, REFRESH_TOKEN
from .ftp import FTPEmulator
from .sftp import SFTPEmulator


class ServedFTP(FTPEmulator):
    """The FTP emulator with fixed credentials, an optional fixed root, passive port range
    and masquerade address (for a container whose clients reach it through port mappings)."""

    def __init__(self, root: str | None, passive_ports: str, masquerade: str | None) -> None:
        super().__init__()
        self.user = os.environ.get("STORAGES_FTP_USER", self.user)
        self.password = os.environ.get("STORAGES_FTP_PASSWORD") or self.password
        self._root = Path(root) if root else None
        low, _, high = passive_ports.partition("-")
        # "0" (or nothing): any free port, as the native emulator does
        self._passive = list(range(int(low), int(high or low) + 1)) if low not in ("", "0") else None
        self._masquerade = masquerade

    @property
    def root_dir(self) -> Path:
        return self._root or super().root_dir

    def start(self) -> None:
        if self._root is not None and self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="storages-ftp-"))  # the root is given: no root/ in it
        super().start()

    def _handler_class(self) -> type:
        handler = super()._handler_class()
        handler.passive_ports = self._passive
        handler.masquerade_address = self._masquerade
        return handler


class ServedSFTP(SFTPEmulator):
    """The SFTP emulator with fixed credentials, an optional fixed root and authorized key."""

    def __init__(self, root: str | None) -> None:
        super().__init__()
        self.username = os.environ.get("STORAGES_SFTP_USER", self.username)
        self.password = os.environ.get("STORAGES_SFTP_PASSWORD") or self.password
        self._root = root

    def start(self) -> None:
        from .sftp_server import generate_ed25519

        if self.workdir is None:
            self._prepare(generate_ed25519)
            if self._root:
                self.root_dir = Path(self._root)
            authorized = os.environ.get("STORAGES_SFTP_AUTHORIZED_KEY", "").split()
            if len(authorized) >= 2:
                import paramiko

                self._client_key = paramiko.Ed25519Key(data=base64.b64decode(authorized[1]))
        super().start()


def _serve_dropbox(host: str, port: int, tls: list[str] | None) -> tuple[Any, int]:
    from .dropbox_fake import FakeDropboxServer, Store

    workdir = Path(tempfile.mkdtemp(prefix="storages-dropbox-"))
    token = os.environ.get("STORAGES_DROPBOX_TOKEN") or ACCESS_TOKEN
    store = Store(workdir / "data", access_tokens={token}, app_key=APP_KEY, app_secret=APP_SECRET,
                  refresh_tokens={REFRESH_TOKEN})
    cert, key, https_port = tls or (None, None, "0")
    server = FakeDropboxServer(store, cert, key, host=host, port=port, https_port=int(https_port))

    def close() -> None:
        server.close()
        shutil.rmtree(workdir, ignore_errors=True)

    return close, server.http_port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulators.serve", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=["ftp", "sftp", "dropbox"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--root", help="serve FTP/SFTP files from this directory")
    parser.add_argument("--passive-ports", default="",
                        help="FTP passive data ports, e.g. 21000-21010 (0: any)")
    parser.add_argument("--masquerade", help="FTP: the address to announce in PASV replies")
    parser.add_argument("--tls", nargs=3, metavar=("CERT", "KEY", "PORT"),
                        help="Dropbox: also serve HTTPS on PORT with this certificate chain and key")
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.name == "dropbox":
        close, port = _serve_dropbox(args.host, args.port, args.tls)
    else:
        emulator: Any = (ServedFTP(args.root, args.passive_ports, args.masquerade) if args.name == "ftp"
                         else ServedSFTP(args.root))
        emulator.host, emulator.port = args.host, args.port or None
        emulator.start()
        port = emulator.port
        close = (emulator._shutdown if args.name == "ftp"
                 else (lambda: emulator.stop(keep_data=bool(args.root))))
        if args.name == "sftp":
            key = emulator._host_key
            print(f"HOSTKEY {key.get_name()} {key.get_base64()}", flush=True)
    print(f"READY {args.name} {args.host}:{port}", flush=True)
    stop.wait()
    close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
