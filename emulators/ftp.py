"""FTP emulator: pyftpdlib in-process on a thread, optionally with explicit TLS.

Each instance has its own IO loop, its own ``DummyAuthorizer`` with one user
and a random password, and a temporary directory whose ``root/`` subdirectory
is the user's home (the jail). Passive data ports are ephemeral ports on
127.0.0.1; active mode (``PORT``) works too. Commands received are recorded in
``commands`` and ``inject()`` makes the next calls of a command fail with a
chosen reply (``421`` also closes the connection), for fault tests.
"""

from __future__ import annotations

import collections
import ftplib
import io
import logging
import secrets
import shutil
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, unquote, urlsplit

from .base import Emulator, EmulatorError, EmulatorUnavailable, needs, unique_name, wait_until
from .seed import TreeNamespace

USER = "storages"
PERMISSIONS = "elradfmwMT"


class FTPNamespace(TreeNamespace):
    """A directory, through a raw ftplib connection (``MLSD``, ``STOR``, ``RETR``) to the emulator."""

    def __init__(self, emulator: Any, options: dict[str, Any]) -> None:
        super().__init__(emulator, options)
        self.root = unquote(urlsplit(options["location"]).path).rstrip("/") or "/"

    def _connect(self) -> ftplib.FTP:
        return self.emulator.client()

    @property
    def ftp(self) -> ftplib.FTP:
        return self.connection

    def _list(self, path: str) -> tuple[list[str], list[str]]:
        try:
            entries = list(self.ftp.mlsd(path, facts=["type"]))
        except ftplib.error_perm as exc:
            if str(exc)[:3] in ("550", "501"):  # no such directory (pyftpdlib answers MLSD with 501)
                return [], []
            raise
        dirs = [name for name, facts in entries if facts.get("type") == "dir"]
        files = [name for name, facts in entries if facts.get("type") == "file"]
        return dirs, files

    def _mkdir(self, path: str) -> None:
        try:
            self.ftp.mkd(path)
        except ftplib.error_perm as exc:
            if not str(exc).startswith("550"):  # 550: it exists already
                raise

    def _write(self, path: str, data: bytes) -> None:
        self.ftp.storbinary(f"STOR {path}", io.BytesIO(data))

    def _read(self, path: str) -> bytes:
        buffer = io.BytesIO()
        try:
            self.ftp.retrbinary(f"RETR {path}", buffer.write)
        except ftplib.error_perm as exc:
            raise FileNotFoundError(f"no {path!r} on the FTP emulator: {exc}") from exc
        return buffer.getvalue()

    def _remove(self, path: str) -> None:
        self.ftp.delete(path)

    def _rmdir(self, path: str) -> None:
        self.ftp.rmd(path)


class FTPEmulator(Emulator):
    """pyftpdlib's FTPServer bound to 127.0.0.1, served from a background thread.

    ``tls=True`` serves explicit FTPS (``AUTH TLS``) with a generated
    certificate and refuses plain control and data channels. ``mlsd=False`` /
    ``mlst=False`` remove those commands, like older servers, so clients must
    fall back to ``LIST`` / ``SIZE`` + ``MDTM``. ``encoding`` is the one the
    server speaks on the control connection (pyftpdlib's default is UTF-8).
    """

    name = "ftp"
    backend = "storages.backends.ftp.FTPStorage"
    namespace_class = FTPNamespace

    def __init__(self, *, tls: bool = False, mlsd: bool = True, mlst: bool = True,
                 encoding: str = "utf-8") -> None:
        super().__init__()
        self.tls = tls
        self.encoding = encoding
        self.mlsd = mlsd
        self.mlst = mlst
        self.user = USER
        self.password = secrets.token_urlsafe(18)
        self.workdir: Path | None = None
        self.cert_file: Path | None = None
        #: (command, argument) pairs received, oldest first; PASS arguments are not kept.
        self.commands: collections.deque[tuple[str, str]] = collections.deque(maxlen=50_000)
        self.fired: list[tuple[str, str]] = []
        self._faults: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- paths -----------------------------------------------------------------
    @property
    def root_dir(self) -> Path:
        """The FTP user's home directory: everything the server serves lives here."""
        if self.workdir is None:
            raise EmulatorError("the ftp emulator is not started")
        return self.workdir / "root"

    # -- lifecycle ---------------------------------------------------------------
    def start(self) -> None:
        """Start serving; after ``stop()`` the same port is reused when it is still free."""
        if self.started:
            return
        needs("pyftpdlib", purpose="the FTP emulator")
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="storages-ftp-"))
            self.root_dir.mkdir()
            if self.tls:
                self.cert_file = _make_certificate(self.workdir)
        self._serve()

    def restart(self) -> None:
        """Stop the server (dropping every client connection) and start it again on
        the same port, keeping the files: what a server restart looks like to clients."""
        self._shutdown()
        self._serve()

    def stop(self) -> None:
        self._shutdown()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
            self.cert_file = None

    def reset(self) -> None:
        """Delete every file and directory under the root; clear records and faults."""
        root = self.root_dir
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        with self._lock:
            self._faults.clear()
            self.fired.clear()
        self.commands.clear()

    def health(self) -> bool:
        if not self.started:
            return False
        try:
            ftp = self.client(timeout=2)
        except (OSError, EOFError, ftplib.Error):
            return False
        try:
            ftp.voidcmd("NOOP")
            return True
        except (OSError, EOFError, ftplib.Error):
            return False
        finally:
            ftp.close()

    def _serve(self) -> None:
        from pyftpdlib.ioloop import IOLoop
        from pyftpdlib.servers import FTPServer

        logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
        if not logging.getLogger("pyftpdlib").handlers:
            logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())
        handler = self._handler_class()
        try:
            server = FTPServer((self.host, self.port or 0), handler, ioloop=IOLoop())
        except OSError:
            if not self.port:
                raise
            # The old port was taken meanwhile: take a new one rather than fail.
            server = FTPServer((self.host, 0), handler, ioloop=IOLoop())
        server.max_cons = 256
        self.port = server.address[1]
        self._server = server
        self._stopping = threading.Event()
        stopping = self._stopping
        self._thread = threading.Thread(target=_loop, args=(server, stopping),
                                        name=f"ftp-emulator-{self.port}", daemon=True)
        self._thread.start()
        self.started = True
        if not wait_until(self.health, 10):
            self._shutdown()
            raise EmulatorError(f"the ftp emulator on port {self.port} did not answer")

    def _shutdown(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._thread.join(timeout=10)
            self._thread = None
        self._server = None
        self.started = False

    def _handler_class(self) -> type:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler

        authorizer = DummyAuthorizer()
        authorizer.add_user(self.user, self.password, str(self.root_dir), perm=PERMISSIONS)
        base: type = FTPHandler
        attrs: dict[str, Any] = {
            "authorizer": authorizer, "passive_ports": None, "permit_foreign_addresses": False,
            "banner": "storages FTP emulator ready.", "timeout": 600, "use_sendfile": False,
            "encoding": self.encoding, "auth_failed_timeout": 0.1,
            "emulator": self,
        }
        if self.tls:
            from pyftpdlib.handlers import TLS_FTPHandler

            base = TLS_FTPHandler
            attrs.update(certfile=str(self.cert_file), keyfile=str(self.workdir / "emulator-key.pem"),
                         ssl_context=None, tls_control_required=True, tls_data_required=True)
        commands = dict(base.proto_cmds)
        if not self.mlsd:
            commands.pop("MLSD", None)
        if not self.mlst:
            commands.pop("MLST", None)
        attrs["proto_cmds"] = commands
        attrs["pre_process_command"] = _pre_process_command
        return type("EmulatorFTPHandler", (base,), attrs)

    # -- faults and records ------------------------------------------------------
    def inject(self, command: str, reply: str = "421 Service not available, closing control connection.",
               times: int = 1) -> None:
        """Answer the next ``times`` ``command`` calls with ``reply`` instead of running
        them. A ``421`` reply also closes the control connection, like a dying server."""
        with self._lock:
            self._faults.setdefault(command.upper(), []).extend([reply] * times)

    def _take_fault(self, command: str) -> str | None:
        with self._lock:
            queue = self._faults.get(command)
            if not queue:
                return None
            reply = queue.pop(0)
            self.fired.append((command, reply))
            return reply

    def count(self, *commands: str) -> int:
        """How many of ``commands`` were received (since the last ``reset()``/clear)."""
        wanted = {c.upper() for c in commands}
        return sum(1 for cmd, _ in list(self.commands) if cmd in wanted)

    # -- clients and options -------------------------------------------------------
    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this emulator's certificate."""
        return ssl.create_default_context(cafile=str(self.cert_file))

    def client(self, timeout: float = 10) -> ftplib.FTP:
        """A raw, logged-in ftplib client (binary mode; FTPS with a protected data channel)."""
        ftp: ftplib.FTP
        if self.tls:
            ftp = ftplib.FTP_TLS(context=self.ssl_context(), timeout=timeout, encoding=self.encoding)
        else:
            ftp = ftplib.FTP(timeout=timeout, encoding=self.encoding)
        try:
            ftp.connect(self.host, self.port)
            ftp.login(self.user, self.password)
            if isinstance(ftp, ftplib.FTP_TLS):
                ftp.prot_p()
            ftp.voidcmd("TYPE I")
        except BaseException:
            ftp.close()
            raise
        return ftp

    def location(self, path: str = "/", *, scheme: str | None = None) -> str:
        """The backend URL for ``path`` (with the password in it, as SEED.md shows)."""
        scheme = scheme or ("ftps" if self.tls else "ftp")
        return (f"{scheme}://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
                f"@{self.host}:{self.port}{path}")

    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"location": self.location("/")}
        if self.tls:
            options["ca_file"] = str(self.cert_file)
        options.update(overrides)
        return options

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        """A fresh, not yet existing directory under the root (created on first save)."""
        scheme = overrides.pop("scheme", None)
        location = self.location(f"/{unique_name('t')}", scheme=scheme)
        return self.storage_options(location=location, **overrides)

    def env(self) -> dict[str, str]:
        return {"FTP_STORAGE_LOCATION": self.location("/")}

    @property
    def endpoint(self) -> str:
        return f"{'ftps' if self.tls else 'ftp'}://{self.host}:{self.port}"


def _loop(server: Any, stopping: threading.Event) -> None:
    try:
        while not stopping.is_set():
            server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
    finally:
        server.close_all()


def _pre_process_command(self: Any, line: str, cmd: str, arg: str) -> None:
    """Record the command, answer with an injected fault if one is queued, else run it."""
    emulator: FTPEmulator = self.emulator
    emulator.commands.append((cmd, "" if cmd == "PASS" else arg))
    reply = emulator._take_fault(cmd)
    if reply is None:
        return type(self).__mro__[1].pre_process_command(self, line, cmd, arg)
    self.respond(reply)
    if reply.startswith("421"):
        self.close_when_done()
    return None


def _make_certificate(directory: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 and localhost; its key is written beside it."""
    import datetime
    import ipaddress

    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError as exc:
        raise EmulatorUnavailable(
            f"FTPS needs 'cryptography' ({exc}); pip install cryptography pyopenssl"
        ) from exc
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "storages FTP emulator")])
    now = datetime.datetime.now(datetime.timezone.utc)
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    (directory / "emulator-key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()))
    path = directory / "emulator-cert.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def conformance_target(get: Callable[[str], Any]) -> tuple[str, dict[str, Any]]:
    emulator = get("ftp")
    return emulator.backend, emulator.new_namespace()
