"""Reads decode gzip only where the storage compressed the object itself (its metadata
mark) or ``AWS_S3_DECODE_GZIP`` asks: an ``x.gz`` stored with ``Content-Encoding: gzip``
by someone else reads back as stored, as many bytes as ``size()`` says (issue 15 item 3)."""

from __future__ import annotations

import gzip
import io

import pytest
from django.core.files.base import ContentFile
from django.test import override_settings

from storages.core.compress import COMPRESSED_MARK

ORIGINAL = b"body { color: red }\n" * 50
STORED = gzip.compress(ORIGINAL, mtime=0)


@pytest.fixture
def foreign(make_storage, raw):
    """An object gzip-encoded by another writer (as upstream stores ``x.css.gz``)."""
    raw.put_object(Bucket=make_storage.bucket, Key="site.css.gz", Body=STORED, ContentEncoding="gzip",
                   ContentType="text/css")
    return "site.css.gz"


@pytest.mark.parametrize("gzip_on", [False, True])
def test_gzip_encoded_objects_it_did_not_compress_read_as_stored(make_storage, foreign, gzip_on):
    storage = make_storage(gzip=gzip_on)
    assert storage.size(foreign) == len(STORED)
    with storage.open(foreign) as f:
        assert f.read() == STORED
        assert f.size == len(STORED)
        f.seek(-10, io.SEEK_END)  # the stored size is the size: seeking from the end works
        assert f.read() == STORED[-10:]
        f.seek(5)
        assert f.read(7) == STORED[5:12]


def test_what_it_compressed_is_marked_and_decoded_whatever_its_settings(make_storage, raw):
    make_storage(gzip=True, object_parameters={"Metadata": {"owner": "web"}}).save(
        "site.css", ContentFile(ORIGINAL))
    head = raw.head_object(Bucket=make_storage.bucket, Key="site.css")
    assert head["ContentEncoding"] == "gzip"
    assert head["Metadata"] == {"owner": "web", COMPRESSED_MARK[0]: COMPRESSED_MARK[1]}
    reader = make_storage()  # compression off: the mark still says how to read it
    with reader.open("site.css") as f:
        assert f.read() == ORIGINAL
        f.seek(100)
        assert f.read(20) == ORIGINAL[100:120]


def test_an_encoding_set_by_the_user_is_not_marked(make_storage, raw):
    storage = make_storage(gzip=True, object_parameters={"ContentEncoding": "gzip"})
    storage.save("pre.css", ContentFile(STORED))  # already compressed by the caller
    assert COMPRESSED_MARK[0] not in raw.head_object(Bucket=make_storage.bucket, Key="pre.css")["Metadata"]
    assert storage.open("pre.css").read() == STORED


def test_decode_gzip_asks_for_every_gzip_encoded_object(make_storage, foreign):
    assert make_storage(decode_gzip=True).open(foreign).read() == ORIGINAL
    with override_settings(AWS_S3_DECODE_GZIP=True):
        storage = make_storage()
        with storage.open(foreign) as f:
            assert f.read() == ORIGINAL
            with pytest.raises(io.UnsupportedOperation):
                f.seek(-1, io.SEEK_END)  # the decoded size is not known
