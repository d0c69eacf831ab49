"""The Dropbox API v2 routes the fake serves, each a function of (store, arg, body).

RPC and upload routes return the result dict; ``files/download`` returns a
:class:`Download`. Route errors are :class:`~.wire.ApiFailure` already wrapped
in the route's own error union, exactly as Dropbox nests them.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, BinaryIO, Callable

from .entry import Entry
from .sessions import Session, receive
from .store import MAX_REQUEST_BYTES, Store
from .wire import (
    ApiFailure,
    BadRequest,
    ContentHasher,
    LookupFailure,
    WriteFailure,
    parse_timestamp,
    union,
    void_tag,
)


@dataclass
class Body:
    """The request body: ``read(n)`` until b''; ``length`` is the declared size (None if chunked)."""

    read: Callable[[int], bytes]
    length: int | None


@dataclass
class Download:
    entry: Entry
    file: BinaryIO


def field(arg: dict[str, Any], name: str, kind: type | tuple[type, ...], default: Any = ..., ) -> Any:
    """A field of the route argument, type-checked like Dropbox's request validation."""
    if name not in arg or arg[name] is None:
        if default is ...:
            raise BadRequest(f"request body: missing required field '{name}'")
        return default
    value = arg[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise BadRequest(f"request body: {name}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _too_large(body: Body) -> None:
    if body.length is not None and body.length > MAX_REQUEST_BYTES:
        raise ApiFailure(*union("payload_too_large"))


def _check_hash(declared: str | None, actual: str) -> None:
    if declared is not None and declared != actual:
        raise ApiFailure(*union("content_hash_mismatch"))


def _write_mode(value: Any) -> tuple[str, str | None]:
    mode, rev = void_tag(value, "add")
    if mode not in ("add", "overwrite", "update") or (mode == "update" and not isinstance(rev, str)):
        raise BadRequest(f"request body: mode: unknown write mode {value!r}")
    return mode, rev


def _commit(store: Store, commit: dict[str, Any], source: Any, size: int, chash: str) -> dict[str, Any]:
    mode, rev = _write_mode(commit.get("mode"))
    client_modified = field(commit, "client_modified", str, None)
    try:
        modified = parse_timestamp(client_modified) if client_modified else None
    except ValueError:
        raise BadRequest(f"request body: client_modified: bad timestamp {client_modified!r}") from None
    return store.commit(
        field(commit, "path", str), source, size, chash, mode=mode, rev=rev,
        autorename=field(commit, "autorename", bool, False),
        strict_conflict=field(commit, "strict_conflict", bool, False), client_modified=modified,
    )


# -- RPC routes ------------------------------------------------------------------------

def get_metadata(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    try:
        return store.get_metadata(field(arg, "path", str))
    except LookupFailure as exc:
        raise exc.wrap("path") from None


def list_folder(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    limit = field(arg, "limit", int, None)
    if limit is not None and not 1 <= limit <= 2000:
        raise BadRequest(f"request body: limit: {limit} is not within the range [1, 2000]")
    try:
        return store.list_folder(field(arg, "path", str), field(arg, "recursive", bool, False), limit)
    except LookupFailure as exc:
        raise exc.wrap("path") from None


def list_folder_continue(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    return store.list_folder_continue(field(arg, "cursor", str))


def delete_v2(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    try:
        return {"metadata": store.delete(field(arg, "path", str))}
    except LookupFailure as exc:
        raise exc.wrap("path_lookup") from None


def delete_v1(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    """The deprecated ``files/delete`` (django-storages 1.14's ``delete()`` calls it): the
    metadata itself, not wrapped in ``{"metadata": ...}``."""
    return delete_v2(store, arg, body)["metadata"]


def get_temporary_link(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    try:
        metadata, token = store.temporary_link(field(arg, "path", str))
    except LookupFailure as exc:
        raise exc.wrap("path") from None
    return {"metadata": metadata, "link": token}  # the server turns the token into a URL


def create_folder_v2(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    try:
        metadata = store.create_folder(field(arg, "path", str), field(arg, "autorename", bool, False))
        return {"metadata": metadata}
    except ApiFailure as exc:
        raise exc.wrap("path") from None


def check_user(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    return {"result": field(arg, "query", str, "")}


# -- upload routes -----------------------------------------------------------------------

def upload(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    _too_large(body)
    try:
        store.check_writable(field(arg, "path", str))
    except WriteFailure as exc:
        raise exc.wrap_struct("path", "reason", upload_session_id="") from None
    source = store.incoming()
    try:
        with open(source, "wb") as out:
            size, chash = receive(body.read, out)
        _check_hash(field(arg, "content_hash", str, None), chash)
        try:
            return _commit(store, arg, source, size, chash)
        except WriteFailure as exc:
            # Dropbox keeps the bytes in a session the caller could commit elsewhere; we do not.
            raise exc.wrap_struct("path", "reason", upload_session_id=secrets.token_urlsafe(16)) from None
    finally:
        source.unlink(missing_ok=True)


def _append(session: Session, body: Body, declared: str | None) -> None:
    """Append the body at the session's offset; on any failure the session is unchanged."""
    hasher = session.hasher.copy()
    with open(session.path, "r+b") as out:
        out.seek(session.offset)
        try:
            count, chash = receive(body.read, out, hasher)
            _check_hash(declared, chash)
        except BaseException:
            out.truncate(session.offset)
            raise
    session.offset += count
    session.hasher = hasher


def upload_session_start(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    _too_large(body)
    if field(arg, "session_type", (str, dict), None) not in (None, "sequential", {".tag": "sequential"}):
        raise BadRequest("concurrent upload sessions are not supported by this fake")
    session = store.start_session()
    try:
        with session.lock:
            _append(session, body, field(arg, "content_hash", str, None))
            session.closed = field(arg, "close", bool, False)
    except BaseException:
        store.end_session(session)
        raise
    return {"session_id": session.id}


def _cursor(arg: dict[str, Any]) -> tuple[str, int]:
    cursor = field(arg, "cursor", dict)
    return field(cursor, "session_id", str), field(cursor, "offset", int)


def upload_session_append_v2(store: Store, arg: dict[str, Any], body: Body) -> None:
    _too_large(body)
    session_id, offset = _cursor(arg)
    session = store.get_session(session_id)
    with session.lock:
        store.check_session(session, offset, has_data=True)
        _append(session, body, field(arg, "content_hash", str, None))
        session.closed = field(arg, "close", bool, False)
    return None


def upload_session_finish(store: Store, arg: dict[str, Any], body: Body) -> dict[str, Any]:
    _too_large(body)
    session_id, offset = _cursor(arg)
    commit = field(arg, "commit", dict)
    try:
        session = store.get_session(session_id)
        with session.lock:
            store.check_session(session, offset, has_data=body.length != 0)
            try:
                store.check_writable(field(commit, "path", str))
            except WriteFailure as exc:
                raise exc.wrap("path") from None
            _append(session, body, field(arg, "content_hash", str, None))
            try:
                metadata = _commit(store, commit, session.path, session.offset, session.hasher.hexdigest())
            except WriteFailure as exc:
                raise exc.wrap("path") from None
    except ApiFailure as exc:
        if exc.tags[0] in ("not_found", "closed", "incorrect_offset"):
            raise exc.wrap("lookup_failed") from None
        raise
    store.end_session(session)
    return metadata


# -- download -----------------------------------------------------------------------------

def download(store: Store, arg: dict[str, Any], body: Body) -> Download:
    try:
        entry, handle = store.open_file(field(arg, "path", str))
    except LookupFailure as exc:
        raise exc.wrap("path") from None
    return Download(entry, handle)


#: route name -> (style, function). Content routes and API routes share one port.
ROUTES: dict[str, tuple[str, Callable[..., Any]]] = {
    "files/get_metadata": ("rpc", get_metadata),
    "files/list_folder": ("rpc", list_folder),
    "files/list_folder/continue": ("rpc", list_folder_continue),
    "files/delete_v2": ("rpc", delete_v2),
    "files/delete": ("rpc", delete_v1),
    "files/get_temporary_link": ("rpc", get_temporary_link),
    "files/create_folder_v2": ("rpc", create_folder_v2),
    "check/user": ("rpc", check_user),
    "files/upload": ("upload", upload),
    "files/upload_session/start": ("upload", upload_session_start),
    "files/upload_session/append_v2": ("upload", upload_session_append_v2),
    "files/upload_session/finish": ("upload", upload_session_finish),
    "files/download": ("download", download),
}

__all__ = ["ROUTES", "Body", "ContentHasher", "Download"]
