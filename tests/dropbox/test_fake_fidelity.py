"""The Dropbox fake as an emulator: the raw official SDK (no backend code), route by route.

Each test works in a folder of its own on the session's fake.
"""

import json
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
import requests
from dropbox import files
from dropbox.content_hash import content_hash
from dropbox.exceptions import ApiError, AuthError, BadInputError

from emulators.base import unique_name

MIB = 1024 * 1024


@pytest.fixture
def base():
    return "/" + unique_name("fid")


def _now():
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _summary_tags(exc):
    tags, error = [], exc.error
    while error is not None:
        tag = getattr(error, "_tag", None)
        if tag is None:
            error = getattr(error, "reason", None)
            continue
        tags.append(tag)
        error = getattr(error, "_value", None)
    return tags


# -- files/upload ------------------------------------------------------------------------

def test_upload_returns_file_metadata(raw, base):
    data = b"hello dropbox"
    md = raw.files_upload(data, f"{base}/Docs/Hello.TXT")
    assert isinstance(md, files.FileMetadata)
    assert md.name == "Hello.TXT"
    assert md.path_display == f"{base}/Docs/Hello.TXT" and md.path_lower == md.path_display.lower()
    assert md.size == len(data) and md.content_hash == content_hash(data)
    assert md.id.startswith("id:") and len(md.rev) >= 9 and int(md.rev, 16) >= 0
    assert abs(md.server_modified - _now()) < timedelta(minutes=1) and md.server_modified.microsecond == 0
    assert md.client_modified == md.server_modified
    folder = raw.files_get_metadata(f"{base}/docs")  # parents are created implicitly
    assert isinstance(folder, files.FolderMetadata) and folder.path_display == f"{base}/Docs"


def test_upload_keeps_client_modified(raw, base):
    when = datetime(2020, 5, 17, 8, 30, 0)
    md = raw.files_upload(b"x", f"{base}/c.txt", client_modified=when)
    assert md.client_modified == when and md.server_modified != when


def test_corrupt_upload_is_rejected_by_content_hash(raw, base):
    with pytest.raises(ApiError) as info:
        raw.files_upload(b"the real bytes", f"{base}/c.bin", content_hash=content_hash(b"other bytes"))
    assert info.value.error.is_content_hash_mismatch()
    with pytest.raises(ApiError):
        raw.files_get_metadata(f"{base}/c.bin")
    # The SDK computes content_hash itself by default; a matching hash is accepted.
    assert raw.files_upload(b"ok", f"{base}/c.bin", content_hash=content_hash(b"ok")).size == 2


def test_add_mode_conflicts_and_autorename(raw, base):
    path = f"{base}/report.txt"
    first = raw.files_upload(b"one", path)
    with pytest.raises(ApiError) as info:
        raw.files_upload(b"two", path, mode=files.WriteMode.add)
    assert _summary_tags(info.value) == ["path", "conflict", "file"]
    # Identical content is not a conflict unless strict_conflict is set.
    assert raw.files_upload(b"one", path).rev == first.rev
    with pytest.raises(ApiError):
        raw.files_upload(b"one", path, strict_conflict=True)
    renamed = raw.files_upload(b"two", path, autorename=True)
    assert renamed.path_display == f"{base}/report (1).txt"
    assert raw.files_upload(b"three", path, autorename=True).name == "report (2).txt"


def test_overwrite_and_update_modes(raw, base):
    path = f"{base}/doc.txt"
    first = raw.files_upload(b"one", path)
    shouted = path.upper().replace(base.upper(), base)
    second = raw.files_upload(b"two", shouted, mode=files.WriteMode.overwrite)
    assert second.id == first.id and second.rev != first.rev and second.path_display == path
    with pytest.raises(ApiError) as info:
        raw.files_upload(b"three", path, mode=files.WriteMode.update(first.rev))
    assert _summary_tags(info.value) == ["path", "conflict", "file"]
    third = raw.files_upload(b"three", path, mode=files.WriteMode.update(second.rev))
    assert third.rev not in (first.rev, second.rev)
    _, response = raw.files_download(path)
    assert response.content == b"three"


def test_folder_and_file_ancestor_conflicts(raw, base):
    raw.files_upload(b"f", f"{base}/file")
    raw.files_create_folder_v2(f"{base}/dir")
    with pytest.raises(ApiError) as info:
        raw.files_upload(b"x", f"{base}/file/child")
    assert _summary_tags(info.value) == ["path", "conflict", "file_ancestor"]
    with pytest.raises(ApiError) as info:
        raw.files_upload(b"x", f"{base}/dir", mode=files.WriteMode.overwrite)
    assert _summary_tags(info.value) == ["path", "conflict", "folder"]


def test_disallowed_and_malformed_names(raw, base):
    with pytest.raises(ApiError) as info:
        raw.files_upload(b"x", f"{base}/desktop.ini")
    assert _summary_tags(info.value) == ["path", "disallowed_name"]
    with pytest.raises(ApiError) as info:
        raw.files_upload(b"x", f"{base}//double")
    assert _summary_tags(info.value) == ["path", "malformed_path"]


def test_paths_are_case_insensitive(raw, base):
    raw.files_upload(b"x", f"{base}/Dir/File.TXT")
    assert raw.files_get_metadata(f"{base}/DIR/file.txt").path_display == f"{base}/Dir/File.TXT"
    other = raw.files_upload(b"y", f"{base}/dir/other.txt")
    assert other.path_display == f"{base}/Dir/other.txt"  # the existing folder keeps its casing


# -- upload sessions -------------------------------------------------------------------------

def test_upload_session_assembles_the_parts(raw, base):
    parts = [b"a" * 3 * MIB, b"b" * 2 * MIB, b"tail"]
    start = raw.files_upload_session_start(parts[0])
    cursor = files.UploadSessionCursor(start.session_id, len(parts[0]))
    raw.files_upload_session_append_v2(parts[1], cursor)
    cursor.offset += len(parts[1])
    md = raw.files_upload_session_finish(parts[2], cursor, files.CommitInfo(f"{base}/big.bin"))
    whole = b"".join(parts)
    assert md.size == len(whole) and md.content_hash == content_hash(whole)
    _, response = raw.files_download(f"{base}/big.bin")
    assert response.content == whole


def test_unfinished_session_is_invisible(raw, base):
    start = raw.files_upload_session_start(b"partial")
    raw.files_upload_session_append_v2(b"more", files.UploadSessionCursor(start.session_id, 7))
    # (the session is never finished: that is how a client abandons an upload)
    assert all(e.path_lower != base.lower() for e in raw.files_list_folder("").entries)
    with pytest.raises(ApiError):
        raw.files_list_folder(base)  # nothing was created, not even the folder


def test_session_offsets_and_lookups(raw, base):
    sid = raw.files_upload_session_start(b"12345").session_id
    with pytest.raises(ApiError) as info:
        raw.files_upload_session_append_v2(b"x", files.UploadSessionCursor(sid, 3))
    assert info.value.error.is_incorrect_offset()
    assert info.value.error.get_incorrect_offset().correct_offset == 5
    with pytest.raises(ApiError) as info:
        raw.files_upload_session_append_v2(b"x", files.UploadSessionCursor("pid_upload_session:nope", 0))
    assert info.value.error.is_not_found()
    with pytest.raises(ApiError) as info:
        raw.files_upload_session_finish(b"", files.UploadSessionCursor(sid, 4), files.CommitInfo(f"{base}/s"))
    assert _summary_tags(info.value) == ["lookup_failed", "incorrect_offset"]
    # A corrupt append is refused and leaves the offset where it was.
    with pytest.raises(ApiError) as info:
        raw.files_upload_session_append_v2(b"678", files.UploadSessionCursor(sid, 5),
                                           content_hash=content_hash(b"xyz"))
    assert info.value.error.is_content_hash_mismatch()
    raw.files_upload_session_append_v2(b"678", files.UploadSessionCursor(sid, 5), close=True)
    with pytest.raises(ApiError) as info:
        raw.files_upload_session_append_v2(b"9", files.UploadSessionCursor(sid, 8))
    assert info.value.error.is_closed()
    cursor = files.UploadSessionCursor(sid, 8)
    assert raw.files_upload_session_finish(b"", cursor, files.CommitInfo(f"{base}/s")).size == 8
    with pytest.raises(ApiError) as info:  # a finished session is gone
        raw.files_upload_session_finish(b"", files.UploadSessionCursor(sid, 8), files.CommitInfo(f"{base}/t"))
    assert _summary_tags(info.value) == ["lookup_failed", "not_found"]


def test_session_finish_conflict_keeps_the_session(raw, base):
    raw.files_upload(b"taken", f"{base}/taken")
    sid = raw.files_upload_session_start(b"data").session_id
    cursor = files.UploadSessionCursor(sid, 4)
    with pytest.raises(ApiError) as info:
        raw.files_upload_session_finish(b"", cursor, files.CommitInfo(f"{base}/taken", strict_conflict=True))
    assert _summary_tags(info.value) == ["path", "conflict", "file"]
    md = raw.files_upload_session_finish(b"", cursor, files.CommitInfo(f"{base}/free"))
    assert md.size == 4


# -- files/download ---------------------------------------------------------------------------

def test_download_streams_with_metadata_and_ranges(raw, base):
    data = bytes(range(256)) * 100
    raw.files_upload(data, f"{base}/ü ✓.bin")
    md, response = raw.files_download(f"{base}/ü ✓.bin")
    assert md.name == "ü ✓.bin" and md.size == len(data)
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.content == data
    md, response = raw.files_download(f"{base}/ü ✓.bin", extra_headers={"Range": "bytes=1000-"})
    assert response.status_code == 206 and md.size == len(data)
    assert response.headers["Content-Range"] == f"bytes 1000-{len(data) - 1}/{len(data)}"
    assert response.content == data[1000:]
    _, response = raw.files_download(f"{base}/ü ✓.bin", extra_headers={"Range": "bytes=-10"})
    assert response.content == data[-10:]
    _, response = raw.files_download(f"{base}/ü ✓.bin", extra_headers={"Range": "bytes=5-9"})
    assert response.content == data[5:10]


def test_download_errors(raw, base):
    raw.files_create_folder_v2(f"{base}/folder")
    with pytest.raises(ApiError) as info:
        raw.files_download(f"{base}/missing")
    assert _summary_tags(info.value) == ["path", "not_found"]
    with pytest.raises(ApiError) as info:
        raw.files_download(f"{base}/folder")
    assert _summary_tags(info.value) == ["path", "not_file"]


# -- files/get_metadata -----------------------------------------------------------------------

def test_get_metadata(raw, base):
    uploaded = raw.files_upload(b"abc", f"{base}/m.txt")
    md = raw.files_get_metadata(f"{base}/M.txt")
    assert isinstance(md, files.FileMetadata)
    assert (md.rev, md.size, md.content_hash, md.id) == (uploaded.rev, 3, uploaded.content_hash, uploaded.id)
    assert raw.files_get_metadata(uploaded.id).path_display == f"{base}/m.txt"  # "id:" paths
    with pytest.raises(ApiError) as info:
        raw.files_get_metadata(f"{base}/nope")
    assert _summary_tags(info.value) == ["path", "not_found"]


# -- files/list_folder (+ /continue) ------------------------------------------------------------

def test_list_folder_pages_with_cursors(raw, base, tweak):
    tweak(page_size=7)
    for i in range(17):
        raw.files_upload(b"", f"{base}/f{i:02d}")
    raw.files_create_folder_v2(f"{base}/sub")
    result = raw.files_list_folder(base)
    pages, names = 1, [e.name for e in result.entries]
    assert len(result.entries) == 7 and result.has_more
    while result.has_more:
        result = raw.files_list_folder_continue(result.cursor)
        names += [e.name for e in result.entries]
        pages += 1
    assert pages == 3 and sorted(names) == sorted([f"f{i:02d}" for i in range(17)] + ["sub"])
    assert len(raw.files_list_folder(base, limit=2).entries) == 2


def test_list_folder_recursive_and_errors(raw, base):
    raw.files_upload(b"1", f"{base}/a/b/c.txt")
    raw.files_upload(b"2", f"{base}/top.txt")
    direct = raw.files_list_folder(base)
    assert sorted((type(e).__name__, e.name) for e in direct.entries) == [
        ("FileMetadata", "top.txt"), ("FolderMetadata", "a")]
    everything = raw.files_list_folder(base, recursive=True)
    assert sorted(e.path_lower for e in everything.entries) == [
        base.lower(), f"{base}/a".lower(), f"{base}/a/b".lower(), f"{base}/a/b/c.txt".lower(),
        f"{base}/top.txt".lower()]
    with pytest.raises(ApiError) as info:
        raw.files_list_folder(f"{base}/missing")
    assert _summary_tags(info.value) == ["path", "not_found"]
    with pytest.raises(ApiError) as info:
        raw.files_list_folder(f"{base}/top.txt")
    assert _summary_tags(info.value) == ["path", "not_folder"]
    assert any(e.path_lower == base.lower() for e in raw.files_list_folder("").entries)  # root is ''


def test_list_folder_continue_reports_changes(raw, base):
    raw.files_upload(b"1", f"{base}/keep")
    raw.files_upload(b"2", f"{base}/gone")
    result = raw.files_list_folder(base)
    assert not result.has_more
    raw.files_upload(b"3", f"{base}/new")
    raw.files_delete_v2(f"{base}/gone")
    changes = raw.files_list_folder_continue(result.cursor)
    kinds = {e.name: type(e).__name__ for e in changes.entries}
    assert kinds == {"new": "FileMetadata", "gone": "DeletedMetadata"}
    assert raw.files_list_folder_continue(changes.cursor).entries == []


def test_stale_cursor_after_reset_is_a_reset_error(dropbox_emulator, raw, base):
    from emulators.dropbox import DropboxEmulator

    own = DropboxEmulator(tls=False)
    own.start()
    try:
        client = own.client()
        client.files_upload(b"x", "/a/b")
        cursor = client.files_list_folder("/a").cursor
        own.reset()
        with pytest.raises(ApiError) as info:
            client.files_list_folder_continue(cursor)
        assert info.value.error.is_reset()
    finally:
        own.stop()


# -- files/delete_v2, create_folder_v2 ----------------------------------------------------------

def test_delete(raw, base):
    raw.files_upload(b"1", f"{base}/d/one")
    raw.files_upload(b"2", f"{base}/d/two")
    result = raw.files_delete_v2(f"{base}/D/one")
    assert isinstance(result.metadata, files.FileMetadata) and result.metadata.name == "one"
    folder = raw.files_delete_v2(f"{base}/d")  # folders go with their contents
    assert isinstance(folder.metadata, files.FolderMetadata)
    with pytest.raises(ApiError):
        raw.files_get_metadata(f"{base}/d/two")
    with pytest.raises(ApiError) as info:
        raw.files_delete_v2(f"{base}/d")
    assert _summary_tags(info.value) == ["path_lookup", "not_found"]


def test_deprecated_delete_route_returns_the_metadata(raw, base):
    """``files/delete`` (v1), which django-storages 1.14's ``DropboxStorage.delete()`` calls."""
    raw.files_upload(b"1", f"{base}/old.txt")
    with pytest.warns(DeprecationWarning):
        deleted = raw.files_delete(f"{base}/old.txt")
    assert isinstance(deleted, files.FileMetadata) and deleted.name == "old.txt"
    with pytest.raises(ApiError) as info, pytest.warns(DeprecationWarning):
        raw.files_delete(f"{base}/old.txt")
    assert _summary_tags(info.value) == ["path_lookup", "not_found"]


def test_create_folder(raw, base):
    md = raw.files_create_folder_v2(f"{base}/New Folder").metadata
    assert isinstance(md, files.FolderMetadata) and md.name == "New Folder"
    with pytest.raises(ApiError) as info:
        raw.files_create_folder_v2(f"{base}/new folder")
    assert _summary_tags(info.value) == ["path", "conflict", "folder"]
    assert raw.files_create_folder_v2(f"{base}/new folder", autorename=True).metadata.name == "new folder (1)"


# -- files/get_temporary_link ---------------------------------------------------------------------

def test_temporary_link_serves_the_bytes(raw, base, tweak):
    raw.files_upload(b"link bytes", f"{base}/ü link.txt")
    result = raw.files_get_temporary_link(f"{base}/ü link.txt")
    assert result.metadata.name == "ü link.txt"
    with urllib.request.urlopen(result.link, timeout=10) as response:
        assert response.read() == b"link bytes"
        assert response.headers["Content-Type"].startswith("text/plain")
    ranged = urllib.request.Request(result.link, headers={"Range": "bytes=5-"})
    with urllib.request.urlopen(ranged, timeout=10) as response:
        assert response.status == 206 and response.read() == b"bytes"
    raw.files_upload(b"changed", f"{base}/ü link.txt", mode=files.WriteMode.overwrite)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(result.link, timeout=10)
    assert info.value.code == 410  # the link was for the old revision
    tweak(link_lifetime=0)
    expired = raw.files_get_temporary_link(f"{base}/ü link.txt").link
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(expired, timeout=10)
    assert info.value.code == 410
    with pytest.raises(ApiError) as info:
        raw.files_get_temporary_link(f"{base}/missing")
    assert _summary_tags(info.value) == ["path", "not_found"]


# -- auth and oauth2/token -------------------------------------------------------------------------

def test_bad_token_is_401_invalid_access_token(dropbox_emulator):
    client = dropbox_emulator.client(oauth2_access_token="not-the-token")
    with pytest.raises(AuthError) as info:
        client.files_list_folder("")
    assert info.value.error.is_invalid_access_token()
    response = requests.post(f"{dropbox_emulator.endpoint}/2/files/list_folder", data='{"path": ""}',
                             headers={"Authorization": "Bearer nope", "Content-Type": "application/json"})
    assert response.status_code == 401 and response.headers["Content-Type"] == "application/json"
    assert response.json() == {"error_summary": "invalid_access_token/..",
                               "error": {".tag": "invalid_access_token"}}


def test_refresh_token_flow(dropbox_emulator):
    client = dropbox_emulator.client(
        oauth2_access_token=None, oauth2_refresh_token=dropbox_emulator.refresh_token,
        app_key=dropbox_emulator.app_key, app_secret=dropbox_emulator.app_secret)
    client.files_list_folder("")
    issued = client._oauth2_access_token
    assert issued and issued != dropbox_emulator.token
    assert dropbox_emulator.store.check_token(issued) == "ok"
    # An expired token gets 401 expired_access_token; the SDK refreshes and retries by itself.
    dropbox_emulator.store.expire_issued_tokens()
    assert dropbox_emulator.store.check_token(issued) == "expired"
    client.files_list_folder("")
    assert client._oauth2_access_token != issued


def test_refresh_with_bad_credentials(dropbox_emulator):
    wrong_secret = dropbox_emulator.client(
        oauth2_access_token=None, oauth2_refresh_token=dropbox_emulator.refresh_token,
        app_key=dropbox_emulator.app_key, app_secret="wrong")
    with pytest.raises(BadInputError, match="invalid_client"):
        wrong_secret.files_list_folder("")
    wrong_refresh = dropbox_emulator.client(
        oauth2_access_token=None, oauth2_refresh_token="revoked",
        app_key=dropbox_emulator.app_key, app_secret=dropbox_emulator.app_secret)
    with pytest.raises(AuthError) as info:  # the SDK turns invalid_grant into invalid_access_token
        wrong_refresh.files_list_folder("")
    assert info.value.error.is_invalid_access_token()


# -- wire details -----------------------------------------------------------------------------------

def _post(emulator, route, data=None, headers=None, token=None):
    headers = {"Authorization": f"Bearer {token or emulator.token}", **(headers or {})}
    return requests.post(f"{emulator.endpoint}/2/{route}", data=data, headers=headers, timeout=10)


def test_wire_formats(dropbox_emulator, base):
    arg = json.dumps({"path": f"{base}/名前.txt", "mode": "add"})  # ensure_ascii: \u escapes
    upload = _post(dropbox_emulator, "files/upload", b"wire",
                   {"Dropbox-API-Arg": arg, "Content-Type": "application/octet-stream"})
    assert upload.status_code == 200 and upload.headers["Content-Type"] == "application/json"
    assert upload.headers["X-Dropbox-Request-Id"] and ".tag" not in upload.json()
    download = _post(dropbox_emulator, "files/download", headers={"Dropbox-API-Arg": json.dumps(
        {"path": f"{base}/名前.txt"})})
    header = download.headers["Dropbox-API-Result"]
    assert header.isascii() and json.loads(header)["name"] == "名前.txt" and download.content == b"wire"
    missing = _post(dropbox_emulator, "files/get_metadata", json.dumps({"path": f"{base}/none"}),
                    {"Content-Type": "application/json"})
    assert missing.status_code == 409 and missing.headers["Content-Type"] == "application/json"
    body = missing.json()
    assert body["error_summary"].startswith("path/not_found/")
    assert body["error"] == {".tag": "path", "path": {".tag": "not_found"}}


def test_malformed_calls_are_400_text(dropbox_emulator):
    wrong_type = _post(dropbox_emulator, "files/get_metadata", '{"path": "/x"}',
                       {"Content-Type": "text/plain"})
    assert wrong_type.status_code == 400 and "Content-Type" in wrong_type.text
    assert wrong_type.text.startswith('Error in call to API function "files/get_metadata"')
    no_field = _post(dropbox_emulator, "files/get_metadata", "{}", {"Content-Type": "application/json"})
    assert no_field.status_code == 400 and "missing required field 'path'" in no_field.text
    raw_utf8 = _post(dropbox_emulator, "files/download",
                     headers={"Dropbox-API-Arg": '{"path": "/ü"}'.encode().decode("latin-1")})
    assert raw_utf8.status_code == 400
    no_auth = requests.post(f"{dropbox_emulator.endpoint}/2/files/get_metadata", data='{"path": "/x"}',
                            headers={"Content-Type": "application/json"}, timeout=10)
    assert no_auth.status_code == 400 and "Authorization" in no_auth.text
    root = _post(dropbox_emulator, "files/list_folder", '{"path": "/"}', {"Content-Type": "application/json"})
    assert root.status_code == 400 and "empty string" in root.text


def test_oversized_request_is_payload_too_large(dropbox_emulator):
    import http.client

    # Straight to the fake: the observation proxy in front of it forwards an answer only once
    # the request body it relays is through, and this body is never sent.
    port = dropbox_emulator.service_port or dropbox_emulator.port  # a container has no proxy
    conn = http.client.HTTPConnection(dropbox_emulator.host, port, timeout=10)
    conn.putrequest("POST", "/2/files/upload")
    conn.putheader("Authorization", f"Bearer {dropbox_emulator.token}")
    conn.putheader("Content-Type", "application/octet-stream")
    conn.putheader("Dropbox-API-Arg", '{"path": "/huge.bin"}')
    conn.putheader("Content-Length", str(151 * MIB))
    conn.endheaders()  # the body is never sent: the fake answers from the declared length
    response = conn.getresponse()
    assert response.status == 409
    assert json.loads(response.read())["error"] == {".tag": "payload_too_large"}
    conn.close()


def test_upload_bodies_land_on_disk_not_in_memory(dropbox_emulator, raw, base):
    data = b"on disk " * 1000
    raw.files_upload(data, f"{base}/disk.bin")
    entry = dropbox_emulator.store.entries[f"{base}/disk.bin".lower()]
    assert dropbox_emulator.store.blob_path(entry).read_bytes() == data


def test_server_modified_advances(raw, base):
    first = raw.files_upload(b"1", f"{base}/t")
    time.sleep(1.05)
    second = raw.files_upload(b"2", f"{base}/t", mode=files.WriteMode.overwrite)
    assert second.server_modified > first.server_modified
