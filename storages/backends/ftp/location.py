"""The FTP ``LOCATION`` URL: ``ftp://`` (plain), ``ftps://`` (explicit TLS) or
``aftp://`` (active mode), parsed and validated; the password kept apart and
masked in every message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

from storages.core import Option

#: scheme -> (TLS, passive mode)
SCHEMES = {"ftp": (False, True), "ftps": (True, True), "aftp": (False, False)}
LOCATION_OPTION = Option("location", ("FTP_STORAGE_LOCATION", "LOCATION"), env=("FTP_STORAGE_LOCATION",))


@dataclass(frozen=True)
class Server:
    """The parsed LOCATION (the password is kept apart, see FTPStorage.password)."""

    scheme: str
    host: str
    port: int
    user: str
    path: str

    @property
    def tls(self) -> bool:
        return SCHEMES[self.scheme][0]

    @property
    def passive(self) -> bool:
        return SCHEMES[self.scheme][1]

    def url(self) -> str:
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{user}{host}:{self.port}{quote(self.path)}"


def mask(url: str) -> str:
    """``url`` with any password replaced by ``***`` (for messages), even if malformed."""
    head, at, tail = url.rpartition("@")
    scheme, sep, userinfo = head.rpartition("://")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.partition(':')[0]}:***@{tail}"


def strip_password(url: str) -> str:
    """``url`` without its password (for options, pickles and migrations)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    return parts._replace(netloc=f"{userinfo.partition(':')[0]}@{hostport}").geturl()


def parse_location(url: Any) -> tuple[Server, str | None]:
    """Split a LOCATION URL into the server and its password; ImproperlyConfigured if malformed."""
    where = LOCATION_OPTION.describe()
    bad = f"{where[0].upper()}{where[1:]} is invalid"
    example = "'ftp://user:password@host:21/path'"
    if not url or not isinstance(url, str):
        raise ImproperlyConfigured(f"FTPStorage needs a server URL: set {where}, e.g. {example}.")
    if "?" in url or "#" in url:
        raise ImproperlyConfigured(f"{bad} ({mask(url)!r}): '?' and '#' are not allowed; percent-encode "
                                   "them in the user name or password (%3F, %23).")
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:  # never quote the URL: the text after ':' may be a password missing its '@'
        raise ImproperlyConfigured(
            f"{bad}: the port of host {parts.hostname!r} must be a number from 1 to 65535, e.g. {example}."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ImproperlyConfigured(f"{bad} ({mask(url)!r}): the scheme must be ftp://, ftps:// "
                                   f"(explicit TLS) or aftp:// (active mode), e.g. {example}.")
    if not parts.hostname:
        raise ImproperlyConfigured(f"{bad} ({mask(url)!r}): no host name, e.g. {example}.")
    path = unquote(parts.path)
    if len(path) > 1:
        path = path.rstrip("/")
    server = Server(scheme, parts.hostname, port or 21, unquote(parts.username or ""), path)
    password = unquote(parts.password) if parts.password is not None else None
    return server, password
