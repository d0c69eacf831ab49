"""Seed and inspect (emulators.seed): one API on every service, around the storage under test."""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

#: What each service stores besides the bytes (docs/testing.md lists the same).
FIELDS = {
    "s3": {"content_type", "metadata"},
    "gcs": {"content_type", "metadata"},
    "azure": {"content_type", "metadata"},
    "dropbox": set(),
    "ftp": set(),
    "sftp": set(),
    "libcloud": set(),
}


@pytest.mark.storages
def test_seeded_files_are_what_the_storage_reads(emulated_storages, storages_backend):
    namespace = emulated_storages.namespace
    assert set(namespace.fields) == FIELDS[storages_backend]
    extra = {"content_type": "text/csv", "metadata": {"owner": "seed"}} if namespace.fields else {}
    namespace.put("docs/report.csv", "a,b\n", **extra)
    namespace.put("top.bin", io.BytesIO(b"\x00\x01"))
    assert default_storage.open("docs/report.csv").read() == b"a,b\n"
    assert default_storage.listdir("") == (["docs"], ["top.bin"])
    stored = namespace.get("docs/report.csv")
    assert (stored.key, stored.data, stored.size) == ("docs/report.csv", b"a,b\n", 4)
    if namespace.fields:
        assert (stored.content_type, stored.metadata) == ("text/csv", {"owner": "seed"})
    else:
        assert (stored.content_type, stored.metadata) == (None, None)


@pytest.mark.storages
def test_what_the_storage_saved_is_what_the_service_holds(emulated_storages):
    namespace = emulated_storages.namespace
    default_storage.save("up/a.txt", ContentFile(b"saved"))
    default_storage.save("b.txt", ContentFile(b"bee"))
    assert namespace.keys() == ["b.txt", "up/a.txt"]
    assert namespace.keys("up/") == ["up/a.txt"]
    assert [(o.key, o.data) for o in namespace.objects()] == [("b.txt", b"bee"), ("up/a.txt", b"saved")]
    assert namespace.exists("up/a.txt") and not namespace.exists("up/zzz.txt")
    if "content_type" in namespace.fields:
        assert namespace.get("up/a.txt").content_type == "text/plain"


@pytest.mark.storages
def test_delete_and_clear(emulated_storages):
    namespace = emulated_storages.namespace
    for key in ("a/b/c.txt", "a/d.txt", "e.txt"):
        namespace.put(key, key)
    namespace.delete("a/b/c.txt")
    namespace.delete("a/b/c.txt")  # absent: no error
    assert namespace.keys() == ["a/d.txt", "e.txt"]
    assert default_storage.listdir("a") == ([], ["d.txt"])  # no empty folder left behind
    with pytest.raises(FileNotFoundError, match="a/b/c.txt"):
        namespace.read("a/b/c.txt")
    namespace.clear()
    assert namespace.keys() == [] and default_storage.listdir("") == ([], [])
    namespace.put("after-clear.txt", b"still usable")
    assert default_storage.open("after-clear.txt").read() == b"still usable"


@pytest.mark.storages
def test_refusals_name_the_service_and_the_key(emulated_storages, storages_backend):
    namespace = emulated_storages.namespace
    for bad in ("", "/abs", "../up", "a/../../b", "dir/", "a\x00b"):
        with pytest.raises(ValueError, match="not a key inside the namespace"):
            namespace.put(bad, b"x")
    service = f"the {storages_backend} service"
    if "content_type" not in namespace.fields:
        with pytest.raises(NotImplementedError, match=f"{service} stores no content type"):
            namespace.put("x.txt", b"x", content_type="text/plain")
        with pytest.raises(NotImplementedError, match=f"{service} stores no metadata"):
            namespace.put("x.txt", b"x", metadata={"a": "b"})
        assert namespace.keys() == []  # nothing stored by a refused put
    with pytest.raises(TypeError, match="bytes, str or a binary file"):
        namespace.put("x.txt", 42)


@pytest.mark.storages
def test_emulator_object_hands_out_fresh_and_existing_namespaces(emulated_storages, storages_backend):
    emulator = emulated_storages.emulator
    with emulator.namespace() as fresh, emulator.namespace() as other:
        assert fresh.keys() == [] and fresh.options != other.options
        fresh.put("k.txt", b"v")
        assert other.keys() == [] and emulated_storages.namespace.keys() == []
        with emulator.namespace(fresh.options) as same:  # a view of the namespace OPTIONS point at
            assert same.read("k.txt") == b"v"
        assert fresh.storage().open("k.txt").read() == b"v"
        assert storages_backend in repr(fresh)
