"""AzureStorage against Azurite: blob properties, block uploads, create-only commits, requests."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from django.core.files.base import ContentFile, File

from storages.backends.azure_storage import AzureStorage
from storages.core import RemoteFile

KB = 1024


def test_content_settings_land_on_the_blob(make_storage, raw_container):
    storage = make_storage(cache_control="public, max-age=600",
                           object_parameters={"content_disposition": "attachment", "content_language": "fr"})
    storage.save("page.html", ContentFile(b"<p>x</p>"))
    storage.save("blob.unknownext", ContentFile(b"x"))
    storage.save("data.csv.gz", ContentFile(b"\x1f\x8b..."))
    page = raw_container.get_blob_client("page.html").get_blob_properties().content_settings
    assert (page.content_type, page.cache_control) == ("text/html", "public, max-age=600")
    assert (page.content_disposition, page.content_language) == ("attachment", "fr")
    other = raw_container.get_blob_client("blob.unknownext").get_blob_properties().content_settings
    assert other.content_type == "application/octet-stream"  # upstream's default_content_type
    gz = raw_container.get_blob_client("data.csv.gz").get_blob_properties().content_settings
    assert (gz.content_type, gz.content_encoding) == ("text/csv", "gzip")
    assert storage.open("data.csv.gz").read() == b"\x1f\x8b..."  # stored bytes, not decoded


def test_get_object_parameters_can_vary_per_file(make_storage, raw_container):
    class Disposition(AzureStorage):
        def get_object_parameters(self, name):
            return {"content_disposition": f'attachment; filename="{name.rsplit("/", 1)[-1]}"'}

    storage = Disposition(**make_storage().option_values(include_secrets=True))
    storage.save("docs/report.pdf", ContentFile(b"%PDF"))
    props = raw_container.get_blob_client("docs/report.pdf").get_blob_properties().content_settings
    assert props.content_disposition == 'attachment; filename="report.pdf"'
    assert props.content_type == "application/pdf"


@pytest.mark.parametrize("max_conn", [1, 4])
def test_large_write_is_staged_in_blocks_of_max_memory_size(make_storage, raw_container, max_conn):
    storage = make_storage(max_memory_size=64 * KB, upload_max_conn=max_conn, file_overwrite=True)
    data = bytes(range(256)) * (4 * 256 + 3)  # 4 full blocks and a 768-byte tail
    with storage.open("blocks.bin", "wb") as f:
        for i in range(0, len(data), 10_000):
            f.write(data[i:i + 10_000])
    committed, uncommitted = raw_container.get_blob_client("blocks.bin").get_block_list("all")
    assert [b.size for b in committed] == [64 * KB] * 4 + [768]
    assert uncommitted == []
    assert storage.open("blocks.bin").read() == data


def test_create_only_commit_uses_the_service_precondition(make_storage, raw_container):
    """The name is taken *between* the start of a write and its commit: the service refuses."""
    storage = make_storage(max_memory_size=16 * KB)
    for size in (100, 40 * KB):  # one Put Blob / staged blocks + Put Block List
        name = f"race-{size}.bin"
        f = RemoteFile(storage, name, "wb", create_only=True)
        f.write(b"n" * size)
        raw_container.upload_blob(name, b"someone else", overwrite=True)
        with pytest.raises(FileExistsError, match=name):
            f.close()
        assert raw_container.download_blob(name).readall() == b"someone else"


def test_overwrite_off_never_replaces_and_picks_a_new_name(make_storage, raw_container):
    raw_container.upload_blob("taken.txt", b"original")
    storage = make_storage()
    name = storage.save("taken.txt", ContentFile(b"new"))
    assert name != "taken.txt" and name.startswith("taken_")
    assert raw_container.download_blob("taken.txt").readall() == b"original"


def test_aborted_block_upload_leaves_nothing_visible(make_storage, raw_container):
    storage = make_storage(max_memory_size=16 * KB)
    with pytest.raises(RuntimeError):
        with storage.open("gone.bin", "wb") as f:
            f.write(b"x" * 50 * KB)  # three blocks staged
            raise RuntimeError("stop")
    assert not storage.exists("gone.bin")
    assert list(raw_container.list_blobs()) == []


def test_failed_part_aborts_and_reports(make_storage, proxied):
    proxy, make = proxied
    storage = make(max_memory_size=16 * KB, upload_max_conn=2, client_options={"retry_total": 0})
    proxy.inject(method="PUT", path_contains="comp=block&", status=500, times=100)
    with pytest.raises(Exception) as info:
        storage.save("fails.bin", File(io.BytesIO(b"y" * 100 * KB), name="fails.bin"))
    assert "500" in str(info.value) or "injected" in str(info.value)
    proxy.clear_faults()
    assert not storage.exists("fails.bin")


def test_request_counts(proxied):
    proxy, make = proxied
    storage = make(max_memory_size=64 * KB, upload_max_conn=1)
    with proxy.counting() as c:
        storage.save("small.txt", ContentFile(b"small"))
    assert [m for m, _ in c.requests] == ["PUT"]  # one Put Blob, with If-None-Match: *
    with proxy.counting() as c:
        with storage.open("small.txt") as f:
            assert f.read() == b"small"
            assert f.size == 5
    assert [m for m, _ in c.requests] == ["GET"]
    for call in (storage.exists, storage.size, storage.get_modified_time, storage.get_created_time):
        with proxy.counting() as c:
            call("small.txt")
        assert [m for m, _ in c.requests] == ["HEAD"]
    with proxy.counting() as c:
        storage.url("small.txt")
    assert c.count == 0  # signed locally with the account key
    with proxy.counting() as c:
        storage.save("big.bin", ContentFile(b"b" * (3 * 64 * KB + 1)))
    assert [(m, "comp=blocklist" in p) for m, p in c.requests] == [("PUT", False)] * 4 + [("PUT", True)]
    with proxy.counting() as c:
        storage.listdir("")
    assert [m for m, _ in c.requests] == ["GET"]
    with proxy.counting() as c:
        storage.delete("small.txt")
    assert [m for m, _ in c.requests] == ["DELETE"]


def test_a_large_read_is_one_streamed_get(proxied):
    """A file of many AZURE_BLOB_MAX_MEMORY_SIZE chunks is one GET read as it arrives (the SDK's
    download_blob would send a GET per chunk)."""
    proxy, make = proxied
    storage = make(max_memory_size=64 * KB)
    data = bytes(range(256)) * 4096  # 1 MiB: sixteen chunks
    storage.save("streamed.bin", ContentFile(data))
    with proxy.counting() as c:
        with storage.open("streamed.bin") as f:
            assert f.size == len(data)
            assert f.read() == data
    assert [m for m, _ in c.requests] == ["GET"]
    with proxy.counting() as c:
        with storage.open("streamed.bin") as f:
            f.seek(1000)
            assert f.read(10) == data[1000:1010] and f.size == len(data)  # the size of the whole blob
    assert [m for m, _ in c.requests] == ["GET", "GET"]


def test_client_side_encryption_keeps_the_sdks_download():
    from storages.backends.azure_storage.transfer import can_stream

    class Client:
        key_encryption_key = None
        require_encryption = False
        snapshot = None

    assert can_stream(Client())
    Client.snapshot = "2026-01-01T00:00:00.0000000Z"
    assert not can_stream(Client())
    Client.snapshot, Client.require_encryption = None, True
    assert not can_stream(Client())


def test_seek_reads_a_range(proxied):
    proxy, make = proxied
    storage = make(max_memory_size=64 * KB)
    data = bytes(range(256)) * 1024  # 256 KiB: four chunks
    storage.save("ranged.bin", ContentFile(data))
    with proxy.counting() as c:
        with storage.open("ranged.bin") as f:
            f.seek(200 * KB)
            assert f.read(10) == data[200 * KB:200 * KB + 10]
            assert f.size == len(data)
    assert [m for m, _ in c.requests] == ["GET", "GET"]  # the first chunk, then only from 200 KiB


def test_listdir_is_relative_to_location_and_follows_pages(make_storage, raw_container):
    class SmallPages(AzureStorage):
        list_page_size = 2

    storage = SmallPages(**make_storage(location="media").option_values(include_secrets=True))
    for name in ["a.txt", "b.txt", "c.txt", "d1/x", "d2/y", "d2/z/w"]:
        storage.save(name, ContentFile(b"."))
    raw_container.upload_blob("media/d3/", b"")  # a "directory marker" made by another tool
    raw_container.upload_blob("outside.txt", b"not in media")
    assert storage.listdir("") == (["d1", "d2", "d3"], ["a.txt", "b.txt", "c.txt"])
    assert storage.listdir("d2") == (["z"], ["y"])
    assert storage.listdir("d3") == ([], [])  # a "directory marker" blob is not a child of itself


def test_times_are_the_blob_properties(make_storage, raw_container):
    storage = make_storage()
    storage.save("t.txt", ContentFile(b"t"))
    props = raw_container.get_blob_client("t.txt").get_blob_properties()
    assert storage.get_modified_time("t.txt") == props.last_modified
    assert storage.get_created_time("t.txt") == props.creation_time
    assert abs(storage.get_created_time("t.txt") - datetime.now(timezone.utc)) < timedelta(minutes=2)
    with pytest.raises(NotImplementedError, match="access-time tracking"):
        storage.get_accessed_time("t.txt")


def test_delete_missing_blob_is_quiet_and_existing_is_gone(make_storage):
    storage = make_storage()
    storage.delete("never-there.txt")
    storage.save("here.txt", ContentFile(b"x"))
    storage.delete("here.txt")
    assert not storage.exists("here.txt")
    with pytest.raises(FileNotFoundError, match="'here.txt' does not exist in Azure container"):
        storage.size("here.txt")
