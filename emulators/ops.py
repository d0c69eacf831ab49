"""One vocabulary of storage operations, and the record of one service call.

Every emulator names what a request did with the same small set of words
(``put``, ``get``, ``head``, ``list``, ``delete``, ...), so a test can say "this
view makes one ``get`` and no ``head``" whatever the backend. :data:`OPERATIONS`
lists each service's words; a request nothing more specific fits is ``other``
(HTTP services) or the command's own name in lower case (FTP).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

_OBJECTS = ("put", "get", "head", "list", "delete", "copy")
_MULTIPART = ("create_multipart", "upload_part", "complete_multipart", "abort_multipart")
_BUCKETS = ("create_bucket", "head_bucket", "delete_bucket", "list_buckets")

#: service -> the operations its requests are classified into.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "s3": _OBJECTS + _MULTIPART + _BUCKETS + (
        "upload_part_copy", "list_parts", "list_multipart", "delete_many", "post",
        "get_acl", "put_acl", "get_tagging", "put_tagging", "delete_tagging", "bucket_config", "other"),
    "gcs": _OBJECTS + _MULTIPART + _BUCKETS + (
        "upload_status", "compose", "update", "bucket_config", "batch", "other"),
    "azure": _OBJECTS + ("upload_part", "complete_multipart", "list_parts") + _BUCKETS + (
        "set_properties", "set_metadata", "tags", "lease", "bucket_config", "service_config", "other"),
    "dropbox": _OBJECTS + ("create_multipart", "upload_part", "complete_multipart") + (
        "delete_many", "rename", "mkdir", "get_link", "login", "other"),
    "ftp": ("login", "user", "stor", "retr", "list", "stat", "delete", "mkdir", "rmdir", "rename", "cwd"),
    "sftp": ("login", "open", "read", "write", "close", "stat", "list", "delete", "mkdir", "rmdir",
             "rename", "chattr", "readlink", "realpath"),
}

#: FTP commands -> operation; any other command is its own name in lower case (``noop``, ``pasv``).
FTP_COMMANDS: dict[str, str] = {
    "USER": "user", "PASS": "login",
    "STOR": "stor", "APPE": "stor", "STOU": "stor", "RETR": "retr",
    "LIST": "list", "NLST": "list", "MLSD": "list",
    "MLST": "stat", "SIZE": "stat", "MDTM": "stat",
    "DELE": "delete", "MKD": "mkdir", "XMKD": "mkdir", "RMD": "rmdir", "XRMD": "rmdir",
    "RNTO": "rename", "CWD": "cwd", "XCWD": "cwd", "CDUP": "cwd", "XCUP": "cwd",
}

#: paramiko SFTPServerInterface / SFTPHandle methods -> operation.
SFTP_REQUESTS: dict[str, str] = {
    "open": "open", "read": "read", "write": "write", "close": "close",
    "stat": "stat", "lstat": "stat", "fstat": "stat", "list_folder": "list",
    "remove": "delete", "rename": "rename", "posix_rename": "rename",
    "mkdir": "mkdir", "rmdir": "rmdir", "chattr": "chattr", "fchattr": "chattr",
    "readlink": "readlink", "canonicalize": "realpath", "login": "login",
}

#: The FTP/SFTP account of ``client(direct=True)``: its sessions are neither recorded nor disturbed.
DIRECT_USER = "storages-direct"

#: Services whose emulator is an HTTP server with the observation proxy in front.
HTTP_SERVICES = ("s3", "gcs", "azure", "dropbox")


def ftp_operation(command: str) -> str:
    return FTP_COMMANDS.get(command, command.lower())


class Operation(NamedTuple):
    """What one request does: its operation, and the bucket and key it names ("" when none)."""

    name: str
    bucket: str = ""
    key: str = ""


@dataclass(frozen=True)
class Call:
    """One call the code under test made to an emulated service.

    ``status`` is the HTTP status, the FTP reply code or the SFTP status code
    (0 is SFTP's OK) the client got; ``None`` when the connection was dropped
    before any answer. ``bytes_in`` is the payload the client sent (request body,
    FTP upload, SFTP write), ``bytes_out`` what it received. ``fault`` names the
    injected fault that fired on this call, if any. ``request`` is the raw
    request (``"GET /bucket/key?..."``, ``"STOR name"``, ``"open /path"``).
    """

    service: str
    operation: str
    key: str = ""
    status: int | None = None
    bytes_in: int = 0
    bytes_out: int = 0
    bucket: str = ""
    request: str = ""
    fault: str | None = None

    @property
    def bytes(self) -> int:
        """Payload bytes moved either way."""
        return self.bytes_in + self.bytes_out

    def __str__(self) -> str:
        where = f" {self.bucket}/{self.key}" if self.bucket else f" {self.key}" if self.key else ""
        fault = f" [fault: {self.fault}]" if self.fault else ""
        moved = "".join(f" {n} B {d}" for n, d in ((self.bytes_in, "in"), (self.bytes_out, "out")) if n)
        return f"{self.service} {self.operation}{where} -> {self.status}{moved}{fault}"
