"""DropboxStorage against the fake: requests per operation, uploads, the jail, errors."""

import urllib.request

import pytest
from django.core.exceptions import ImproperlyConfigured, SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from dropbox import files

from emulators.base import free_port
from storages.core import ServiceUnavailable
from tests.support import FailingSource

from .conftest import routes

PART = 4 * 1024 * 1024


# -- few requests ----------------------------------------------------------------------

def test_requests_per_operation(proxied, proxy):
    storage = proxied()
    with proxy.counting() as save:
        storage.save("one.txt", ContentFile(b"hello"))
    with proxy.counting() as read:
        with storage.open("one.txt") as f:
            assert f.read() == b"hello"
    with proxy.counting() as exists:
        assert storage.exists("one.txt")
    with proxy.counting() as size:
        assert storage.size("one.txt") == 5
    with proxy.counting() as modified:
        storage.get_modified_time("one.txt")
    with proxy.counting() as url:
        storage.url("one.txt")
    with proxy.counting() as listing:
        storage.listdir("")
    with proxy.counting() as delete:
        storage.delete("one.txt")
    assert routes(save.requests) == ["files/upload"]
    assert routes(read.requests) == ["files/download"]
    for stat in (exists, size, modified):
        assert routes(stat.requests) == ["files/get_metadata"]
    assert routes(url.requests) == ["files/get_temporary_link"]
    assert routes(listing.requests) == ["files/list_folder"]
    # Dropbox deletes folders recursively: delete() looks first (see storages.core.base, "Directories").
    assert routes(delete.requests) == ["files/get_metadata", "files/delete_v2"]


def test_large_save_uses_an_upload_session_in_parts(proxied, proxy, raw):
    storage = proxied()
    data = bytes(range(256)) * (PART * 2 // 256) + b"tail"
    with proxy.counting() as save:
        storage.save("big.bin", ContentFile(data))
    assert routes(save.requests) == ["files/upload_session/start", "files/upload_session/append_v2",
                                     "files/upload_session/finish"]
    md = raw.files_get_metadata(f"{storage.root_path}/big.bin")
    from dropbox.content_hash import content_hash

    assert md.size == len(data) and md.content_hash == content_hash(data)
    with proxy.counting() as exact:  # exactly one part: still one request
        storage.save("exact.bin", ContentFile(b"x" * PART))
    assert routes(exact.requests) == ["files/upload_session/start", "files/upload_session/finish"]


def test_listdir_follows_every_page(proxied, proxy, tweak):
    tweak(page_size=5)
    storage = proxied()
    for i in range(12):
        storage.save(f"many/f{i:02d}", ContentFile(b""))
    with proxy.counting() as listing:
        assert storage.listdir("many") == ([], [f"f{i:02d}" for i in range(12)])
    assert routes(listing.requests) == ["files/list_folder"] + ["files/list_folder/continue"] * 2


def test_seek_reads_with_a_range(proxied, proxy):
    storage = proxied()
    data = bytes(range(256)) * 4096
    storage.save("r.bin", ContentFile(data))
    with storage.open("r.bin") as f:
        with proxy.counting() as seek:
            f.seek(700_000)
            assert f.read(5) == data[700_000:700_005]
    assert routes(seek.requests) == ["files/download"]


# -- overwrite policy --------------------------------------------------------------------

def test_create_only_conflicts_even_with_identical_content(dbx_storage):
    assert dbx_storage.save("same.txt", ContentFile(b"same")) == "same.txt"
    second = dbx_storage.save("same.txt", ContentFile(b"same"))  # strict_conflict: not a silent no-op
    assert second != "same.txt" and dbx_storage.open(second).read() == b"same"


def test_case_insensitive_names_conflict_like_dropbox(dbx_storage):
    dbx_storage.save("Photo.JPG", ContentFile(b"1"))
    assert dbx_storage.exists("photo.jpg")
    assert dbx_storage.save("photo.jpg", ContentFile(b"2")) != "photo.jpg"
    assert dbx_storage.open("PHOTO.jpg").read() == b"1"


def test_write_mode_overwrite_replaces(make_storage):
    storage = make_storage(write_mode="overwrite")
    storage.save("w.txt", ContentFile(b"one"))
    assert storage.save("w.txt", ContentFile(b"two")) == "w.txt"
    assert storage.open("w.txt").read() == b"two"


def test_open_for_writing_replaces_like_a_local_file(dbx_storage):
    dbx_storage.save("f.txt", ContentFile(b"old"))
    with dbx_storage.open("f.txt", "wb") as f:
        f.write(b"new")
    assert dbx_storage.open("f.txt").read() == b"new"


def test_aborted_upload_session_is_never_finished(dbx_storage, dropbox_emulator, proxied, proxy):
    storage = proxied()
    with proxy.counting() as failed:
        with pytest.raises(OSError, match="source failed"):
            storage.save("x.bin", File(FailingSource(PART * 2 + 1), name="x.bin"))
    assert "files/upload_session/finish" not in routes(failed.requests)
    assert routes(failed.requests)[:2] == ["files/upload_session/start", "files/upload_session/append_v2"]
    assert not storage.exists("x.bin")


# -- the jail ---------------------------------------------------------------------------

def test_files_land_under_the_root_path(dbx_storage, raw):
    dbx_storage.save("a/b.txt", ContentFile(b"jailed"))
    md = raw.files_get_metadata(f"{dbx_storage.root_path}/a/b.txt")
    assert md.size == 6


def test_nothing_outside_the_root_is_reachable(make_storage, raw):
    outside = "/" + make_storage.root_path.strip("/") + "-outside"
    raw.files_upload(b"secret", f"{outside}/secret.txt")
    raw.files_upload(b"root", "/toplevel-secret.txt", mode=files.WriteMode.overwrite)
    storage = make_storage()
    storage.save("inside.txt", ContentFile(b"in"))
    assert storage.listdir("") == ([], ["inside.txt"])
    escapes = ("../" + outside.strip("/") + "/secret.txt", "/toplevel-secret.txt", "..\\toplevel-secret.txt")
    for bad in escapes:
        for call in (storage.exists, storage.open, storage.size, storage.url, storage.delete):
            with pytest.raises(SuspiciousFileOperation):
                call(bad)
        with pytest.raises(SuspiciousFileOperation):
            storage.save(bad, ContentFile(b"evil"))
    assert raw.files_download(f"{outside}/secret.txt")[1].content == b"secret"


def test_two_roots_are_isolated(make_storage, dropbox_emulator):
    from storages.backends.dropbox import DropboxStorage

    first = make_storage()
    second = DropboxStorage(**dropbox_emulator.new_namespace())
    first.save("x.txt", ContentFile(b"1"))
    assert not second.exists("x.txt") and second.listdir("") == ([], [])


def test_the_root_itself_is_never_deleted(dbx_storage):
    dbx_storage.save("keep.txt", ContentFile(b"k"))
    with pytest.raises(IsADirectoryError, match="storage root"):
        dbx_storage.delete(".")
    assert dbx_storage.exists("keep.txt")


# -- folders, urls, times -----------------------------------------------------------------

def test_folders(dbx_storage):
    dbx_storage.save("dir/inner.txt", ContentFile(b"i"))
    assert dbx_storage.exists("dir") and dbx_storage.exists("dir/")
    with pytest.raises(IsADirectoryError):
        dbx_storage.open("dir")
    with pytest.raises(IsADirectoryError):
        dbx_storage.size("dir")
    assert dbx_storage.listdir("dir/inner.txt") == ([], [])  # not a directory (the core's rule)
    with pytest.raises(NotADirectoryError):
        dbx_storage.save("dir/inner.txt/child", ContentFile(b"c"))


def test_url_is_a_temporary_link_that_serves_the_bytes(dbx_storage, dropbox_emulator):
    dbx_storage.save("link me.txt", ContentFile(b"via link"))
    url = dbx_storage.url("link me.txt")
    assert url.startswith(dropbox_emulator.endpoint + "/tmplink/")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"via link"
    with pytest.raises(FileNotFoundError):
        dbx_storage.url("missing.txt")


def test_modified_time_is_server_modified(dbx_storage, raw):
    dbx_storage.save("t.txt", ContentFile(b"t"))
    md = raw.files_get_metadata(f"{dbx_storage.root_path}/t.txt")
    from datetime import timezone

    assert dbx_storage.get_modified_time("t.txt") == md.server_modified.replace(tzinfo=timezone.utc)


def test_created_and_accessed_times_are_declared_missing(dbx_storage):
    dbx_storage.save("t.txt", ContentFile(b"t"))
    with pytest.raises(NotImplementedError, match="creation time"):
        dbx_storage.get_created_time("t.txt")
    with pytest.raises(NotImplementedError, match="last read"):
        dbx_storage.get_accessed_time("t.txt")


# -- credentials and service errors ---------------------------------------------------------

def test_bad_token_is_a_permission_error_naming_the_setting(make_storage):
    storage = make_storage(oauth2_access_token="wrong-token")
    for call in (lambda: storage.exists("x"), lambda: storage.open("x"), lambda: storage.listdir(""),
                 lambda: storage.save("x", ContentFile(b"x")), lambda: storage.url("x")):
        with pytest.raises(PermissionError, match="DROPBOX_OAUTH2_TOKEN") as info:
            call()
        assert "wrong-token" not in str(info.value) and "invalid_access_token" in str(info.value)


def test_refresh_token_credentials(dropbox_emulator):
    from storages.backends.dropbox import DropboxStorage

    root = dropbox_emulator.new_namespace()["root_path"]
    storage = DropboxStorage(**dropbox_emulator.refresh_options(root_path=root))
    storage.save("r.txt", ContentFile(b"refreshed"))
    dropbox_emulator.store.expire_issued_tokens()  # the SDK refreshes again by itself
    assert storage.open("r.txt").read() == b"refreshed"


def test_bad_refresh_credentials(dropbox_emulator):
    from storages.backends.dropbox import DropboxStorage

    revoked = DropboxStorage(**dropbox_emulator.refresh_options(oauth2_refresh_token="revoked"))
    with pytest.raises(PermissionError, match="DROPBOX_OAUTH2_REFRESH_TOKEN"):
        revoked.exists("x")
    wrong_secret = DropboxStorage(**dropbox_emulator.refresh_options(app_secret="wrong"))
    with pytest.raises(PermissionError, match="DROPBOX_APP_SECRET"):
        wrong_secret.exists("x")


def test_unreachable_service_names_the_endpoint(make_storage):
    endpoint = f"http://127.0.0.1:{free_port()}"
    storage = make_storage(api_endpoint=endpoint)
    with pytest.raises(ServiceUnavailable, match=endpoint.replace(".", r"\.")):
        storage.exists("x")


def test_https_without_the_ca_names_the_fix(make_storage, dropbox_emulator, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    storage = make_storage(api_endpoint=dropbox_emulator.https_endpoint)
    with pytest.raises(ServiceUnavailable, match="REQUESTS_CA_BUNDLE"):
        storage.exists("x")


def test_a_transient_503_is_retried_by_the_sdk(proxied, proxy):
    storage = proxied()
    proxy.inject(path_contains="files/upload", status=503, times=1)
    assert storage.save("retry.txt", ContentFile(b"retried")) == "retry.txt"
    assert [kind for _, _, kind in proxy.fired] == ["status"]
    assert storage.open("retry.txt").read() == b"retried"


def test_bad_endpoint_setting():
    from storages.backends.dropbox import DropboxStorage

    with pytest.raises(ImproperlyConfigured, match="DROPBOX_API_ENDPOINT"):
        DropboxStorage(oauth2_access_token="t", api_endpoint="ftp://nope").exists("x")
