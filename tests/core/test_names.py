"""Pure-function tests of name handling (storages/core/names.py)."""

import posixpath
import re

import pytest
from django.core.exceptions import SuspiciousFileOperation

from storages.core.names import (
    clean_name,
    dir_prefix,
    is_temp_name,
    join_root,
    relative_to_root,
    split_listing,
    temp_name,
)


@pytest.mark.parametrize("name, expected", [
    ("a.txt", "a.txt"),
    ("dir/a.txt", "dir/a.txt"),
    ("dir\\sub\\a.txt", "dir/sub/a.txt"),
    ("dir//a.txt", "dir/a.txt"),
    ("./dir/./a.txt", "dir/a.txt"),
    ("dir/", "dir/"),
    ("", ""),
    ("ü ñ 名/file name.txt", "ü ñ 名/file name.txt"),
])
def test_clean_name_normalises(name, expected):
    assert clean_name(name) == expected


@pytest.mark.parametrize("name", [
    "../x", "a/../b", "a/..", "..", "..\\x", "/etc/passwd", "\\server\\share", "C:\\x", "c:/x",
    "a\x00b", "a\nb", "a\x1fb", "a\x7fb", "a\x85b", "a\x9fb",
])
def test_clean_name_refuses_escapes_and_control_characters(name):
    with pytest.raises(SuspiciousFileOperation):
        clean_name(name)


def test_clean_name_refuses_non_strings():
    with pytest.raises(TypeError):
        clean_name(b"bytes")


@pytest.mark.parametrize("root, name, key", [
    ("", "a.txt", "a.txt"),
    ("media", "a.txt", "media/a.txt"),
    ("media/", "dir/a.txt", "media/dir/a.txt"),
    ("/srv/files/", "a.txt", "/srv/files/a.txt"),
    ("media", "", "media/"),
    ("", "", ""),
])
def test_join_root(root, name, key):
    assert join_root(root, name) == key


def test_join_root_validates_only_the_name():
    with pytest.raises(SuspiciousFileOperation):
        join_root("media", "../secret")


def test_dir_prefix_and_relative_to_root():
    assert dir_prefix("") == ""
    assert dir_prefix("a") == "a/"
    assert dir_prefix("a/") == "a/"
    assert relative_to_root("media", "media/x/y") == "x/y"
    assert relative_to_root("", "x") == "x"


def test_split_listing_keeps_direct_children():
    dirs, files = split_listing("p/", ["p/a", "p/b", "p/", "p/c/d", "q/x"], ["p/c/", "p/e/"])
    assert dirs == ["c", "e"]
    assert files == ["a", "b"]


@pytest.mark.parametrize("key, directory", [
    ("a.txt", ""),
    ("dir/sub/a.txt", "dir/sub"),
    ("/srv/files/a.txt", "/srv/files"),
])
def test_temp_name_is_a_hidden_sibling(key, directory):
    name = temp_name(key)
    assert posixpath.dirname(name) == directory
    base = posixpath.basename(name)
    assert re.fullmatch(r"\.storages-[0-9a-f]{32}\.part", base)
    assert is_temp_name(base) and is_temp_name(name)


def test_temp_names_are_fresh():
    assert len({temp_name("dir/a.txt") for _ in range(1000)}) == 1000


@pytest.mark.parametrize("name", [
    "a.txt",
    ".storages-0123456789abcdef0123456789abcdef",  # no suffix
    "storages-0123456789abcdef0123456789abcdef.part",  # not hidden
    ".storages-0123456789abcdef0123456789abcde.part",  # 31 hex digits
    ".storages-0123456789abcdef0123456789abcdef0.part",  # 33 hex digits
    ".storages-0123456789ABCDEF0123456789ABCDEF.part",  # not what temp_name makes
    ".storages-0123456789abcdef0123456789abcdef.part.txt",
    "x.storages-0123456789abcdef0123456789abcdef.part",
    ".storages-0123456789abcdef0123456789abcdef.part/",  # a directory key, not the name itself
    ".~sftp-0123456789abcdef0123456789abcdef.part",
])
def test_is_temp_name_refuses_other_names(name):
    assert not is_temp_name(name)


def test_clean_name_keeps_printable_unicode_next_to_the_control_range():
    assert clean_name("caf\xe9/\xa0x\u2028") == "caf\xe9/\xa0x\u2028"  # Latin-1, NBSP, LINE SEPARATOR: not Cc
