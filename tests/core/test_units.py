"""Pure-logic pieces of the core: time zones, name truncation, part pool, gzip, legacy settings."""

import gzip
import threading
import time
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.test import override_settings

from storages.compat import storages_from_legacy_settings
from storages.core.base import _truncate, localize
from storages.core.compress import GzipUpload, should_gzip
from storages.core.files import Upload
from storages.core.parallel import PartPool


def test_localize_is_aware_iff_use_tz():
    value = datetime(2024, 1, 2, 12, 0, tzinfo=timezone.utc)
    with override_settings(USE_TZ=True):
        assert localize(value) == value and localize(value).tzinfo is not None
    with override_settings(USE_TZ=False, TIME_ZONE="America/Chicago"):
        assert localize(value) == datetime(2024, 1, 2, 6, 0)


def test_truncate_keeps_extension_and_directory():
    assert _truncate("dir/averylongname.txt", 16) == "dir/averylon.txt"
    assert _truncate("short.txt", 100) == "short.txt"
    with pytest.raises(SuspiciousFileOperation):
        _truncate("dir/name.txt", 5)


def test_part_pool_keeps_order_and_bounds_in_flight():
    pool = PartPool(3)
    running, peak, lock = 0, 0, threading.Lock()

    def work(i):
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.01 * (5 - i % 5))
        with lock:
            running -= 1
        return i

    for i in range(12):
        pool.submit(work, i)
    assert pool.wait() == list(range(12))
    assert peak <= 3


def test_part_pool_raises_the_first_error():
    pool = PartPool(2)

    def work(i):
        if i == 3:
            raise OSError("part 3 failed")
        return i

    with pytest.raises(OSError, match="part 3"):
        for i in range(6):
            pool.submit(work, i)
        pool.wait()
    pool.cancel()


class Recorder(Upload):
    """A pure in-memory Upload, to test the wrappers above it."""

    def __init__(self):
        self.parts, self.tail, self.aborted = [], None, False

    def write_part(self, data):
        self.parts.append(data)

    def commit(self, tail):
        self.tail = tail

    def abort(self):
        self.aborted = True


def test_gzip_upload_streams_parts_of_at_least_part_size():
    inner = Recorder()
    upload = GzipUpload(inner, part_size=1024)
    import os

    original = os.urandom(50_000)  # incompressible: several parts
    for start in range(0, len(original), 4096):
        upload.write_part(original[start:start + 4096])
    upload.commit(b"")
    assert inner.parts and all(len(p) == 1024 for p in inner.parts)
    assert gzip.decompress(b"".join(inner.parts) + inner.tail) == original


def test_gzip_upload_abort_reaches_the_inner_upload():
    inner = Recorder()
    GzipUpload(inner, 1024).abort()
    assert inner.aborted


def test_should_gzip_matches_types_exactly():
    types = ("text/css", "image/svg+xml")
    assert should_gzip("text/css", types)
    assert should_gzip("text/css; charset=utf-8", types)
    assert not should_gzip("text/plain", types)
    assert not should_gzip(None, types)


def _settings(**values):
    overridden = set(values.pop("overridden", ()))
    return SimpleNamespace(is_overridden=lambda name: name in overridden, **values)


def test_legacy_default_file_storage_is_applied_to_storages():
    import django

    settings = _settings(
        DEFAULT_FILE_STORAGE="storages.backends.s3boto3.S3Boto3Storage",
        STORAGES={"default": {"BACKEND": "x"}, "staticfiles": {"BACKEND": "y"}},
    )
    merged = storages_from_legacy_settings(settings)
    if django.VERSION < (5, 1):
        assert merged is None  # Django still reads DEFAULT_FILE_STORAGE itself
    else:
        assert merged["default"] == {"BACKEND": "storages.backends.s3boto3.S3Boto3Storage"}
        assert merged["staticfiles"] == {"BACKEND": "y"}
    explicit = _settings(DEFAULT_FILE_STORAGE="a.B", STORAGES={}, overridden={"STORAGES"})
    assert storages_from_legacy_settings(explicit) is None
