"""Directories, one rule on every backend (storages/core/base.py, "Directories"), and what
``collectstatic --clear`` does with it."""

import json
import posixpath

import pytest
from django.contrib.staticfiles.management.commands import collectstatic
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import override_settings
from django.utils.module_loading import import_string


def walk(storage, path=""):
    """Every file below ``path``, through listdir() only (what collectstatic sees)."""
    dirs, files = storage.listdir(path)
    for name in files:
        yield posixpath.join(path, name)
    for name in dirs:
        yield from walk(storage, posixpath.join(path, name))


def test_a_directory_exists_while_files_lie_below_it(storage):
    assert storage.exists("") and storage.exists(".")  # the root always exists, even empty
    storage.save("a/b/c.txt", ContentFile(b"c"))
    for name in ("", "a", "a/", "a/b", "a/b/"):
        assert storage.exists(name), name
    assert storage.exists("a/b/c.txt")
    for name in ("a/b/c", "a/nope", "a/b/c.txt/d", "b"):  # a prefix of a name is not a directory
        assert not storage.exists(name), name


def test_a_directory_is_not_a_file(storage):
    storage.save("a/b/c.txt", ContentFile(b"c"))
    for name in ("a", "a/b/", "", "."):
        with pytest.raises(IsADirectoryError):
            storage.size(name)
        with pytest.raises(IsADirectoryError):
            storage.open(name)
        with pytest.raises(IsADirectoryError):
            storage.get_modified_time(name)
    with pytest.raises(FileNotFoundError):
        storage.size("a/b/c")  # neither a file nor a directory


def test_listdir_of_a_file_or_of_nothing_is_empty(storage):
    storage.save("a/f.txt", ContentFile(b"f"))
    assert storage.listdir("a/f.txt") == ([], [])
    assert storage.listdir("a/f") == ([], [])
    assert storage.listdir("nothing/here") == ([], [])
    assert storage.listdir("a") == ([], ["f.txt"])


def test_delete_never_removes_a_directory_with_files(storage):
    for name in ("a/one.txt", "a/b/two.txt"):
        storage.save(name, ContentFile(b"x"))
    for name in ("a", "a/", "a/b"):
        with pytest.raises(IsADirectoryError, match="not empty"):
            storage.delete(name)
    with pytest.raises(IsADirectoryError, match="root"):
        storage.delete(".")
    with pytest.raises(ValueError):
        storage.delete("")  # Django's contract: the name must be given
    assert sorted(walk(storage)) == ["a/b/two.txt", "a/one.txt"]


def test_an_emptied_directory_can_be_deleted(storage):
    storage.save("a/b/c.txt", ContentFile(b"c"))
    storage.delete("a/b/c.txt")
    assert storage.listdir("a/b") == ([], []) and storage.listdir("a")[1] == []
    # Object stores have no empty directories; FTP, SFTP and Dropbox keep them until deleted.
    storage.delete("a/b")
    storage.delete("a")
    assert not storage.exists("a/b") and not storage.exists("a")
    assert storage.listdir("") == ([], [])
    storage.delete("a")  # nothing there: a no-op, like a missing file


def test_collectstatic_clear_deletes_exactly_the_old_files(storage_factory, tmp_path):
    """``collectstatic --clear`` through the manifest static storage of the target: it calls
    exists("") and listdir() down the tree, deletes every old file, then collects."""
    source = tmp_path / "static"
    (source / "js").mkdir(parents=True)
    (source / "css").mkdir()
    (source / "js" / "app.js").write_text("console.log('new');\n")
    (source / "css" / "site.css").write_text("body { color: black; }\n")
    backend = import_string(storage_factory.backend)
    static_class = type(f"Manifest{backend.__name__}", (ManifestFilesMixin, backend), {})
    static = static_class(**storage_factory.options)
    for name in ("js/app.js", "old.txt", "css/old.css", "deep/er/stale.js", "deep/top.js"):
        static.save(name, ContentFile(b"old"))

    command = collectstatic.Command()
    command.storage = static
    finders = ["django.contrib.staticfiles.finders.FileSystemFinder"]
    with override_settings(STATICFILES_DIRS=[str(source)], STATICFILES_FINDERS=finders):
        call_command(command, "--clear", "--noinput", verbosity=0)

    manifest = json.loads(static.open("staticfiles.json").read())["paths"]
    assert set(manifest) == {"js/app.js", "css/site.css"}
    expected = {"staticfiles.json", *manifest, *manifest.values()}
    assert set(walk(static)) == expected
    assert static.open("js/app.js").read() == b"console.log('new');\n"
    assert static.open(manifest["css/site.css"]).read() == b"body { color: black; }\n"
