"""Django's Storage contract (DESIGN.md, "Contract"), honoured identically by every backend."""

import io
import pickle
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile, File
from django.test import override_settings

from .race import STRESS_ROUNDS, race_rounds
from .support import FailingSource

TRAVERSAL_NAMES = ["../x", "a/../../x", "/etc/passwd", "..\\x", "a\x00b", "C:\\x", "a/\x01b"]


# -- reading and writing -------------------------------------------------------

def test_binary_round_trip(storage):
    data = bytes(range(256)) * 40
    name = storage.save("bin/data.bin", ContentFile(data))
    assert name == "bin/data.bin"
    with storage.open(name, "rb") as f:
        assert f.read() == data
    assert storage.size(name) == len(data)


def test_text_mode_round_trip(storage):
    text = "première ligne\nzweite Zeile — ✓\n"
    with storage.open("text.txt", "w") as f:
        f.write(text)
    with storage.open("text.txt", "r") as f:
        assert f.read() == text
    with storage.open("text.txt", "rb") as f:
        assert f.read() == text.encode("utf-8")


def test_empty_save_and_empty_write(storage):
    storage.save("empty-saved", ContentFile(b""))
    assert storage.exists("empty-saved") and storage.size("empty-saved") == 0
    with storage.open("empty-written", "wb"):
        pass
    assert storage.exists("empty-written")
    assert storage.size("empty-written") == 0
    assert storage.open("empty-written").read() == b""


def test_every_write_is_kept_in_order_across_parts(storage):
    chunks, total, i = [], 0, 0
    while total < 2 * storage.part_size + 12345:  # at least two full parts and a tail
        i += 1
        chunks.append(bytes([i % 251]) * (1 + i * 7919 % 700_001))
        total += len(chunks[-1])
    expected = b"".join(chunks)
    with storage.open("parts.bin", "wb") as f:
        for chunk in chunks:
            f.write(chunk)
    assert storage.size("parts.bin") == len(expected)
    with storage.open("parts.bin", "rb") as f:
        assert f.read() == expected


def test_read_in_pieces_seek_and_iterate(storage):
    storage.save("lines.txt", ContentFile(b"alpha\nbeta\ngamma\n"))
    f = storage.open("lines.txt", "rb")
    assert f.read(3) == b"alp"
    f.seek(6)
    assert f.read(4) == b"beta"
    f.seek(0)
    assert list(f) == [b"alpha\n", b"beta\n", b"gamma\n"]
    assert b"|".join(f.chunks(chunk_size=6)) == b"alpha\n|beta\ng|amma\n"
    assert f.size == 17
    f.close()
    assert f.closed
    f.open()
    assert f.read() == b"alpha\nbeta\ngamma\n"
    f.close()


def test_large_file_streams_with_ranges(storage):
    data = (b"0123456789abcdef" * 65536) * 3  # 3 MiB
    storage.save("big.bin", ContentFile(data))
    with storage.open("big.bin") as f:
        f.seek(2_500_000)
        assert f.read(10) == data[2_500_000:2_500_010]
        f.seek(100)
        assert f.read(5) == data[100:105]
        pieces = list(f.chunks(chunk_size=1 << 20))
    assert [len(p) for p in pieces] == [1 << 20] * 3
    assert b"".join(pieces) == data


def test_save_from_plain_stream_and_django_file(storage):
    assert storage.save("stream.bin", io.BytesIO(b"stream bytes")) == "stream.bin"
    assert storage.open("stream.bin").read() == b"stream bytes"
    source = File(io.BytesIO(b"file bytes"), name="whatever.bin")
    assert storage.save("file.bin", source) == "file.bin"
    assert storage.open("file.bin").read() == b"file bytes"


def test_unicode_and_space_names(storage):
    name = "dir with space/файл ü 名 (1).txt"
    assert storage.save(name, ContentFile(b"unicode")) == name
    assert storage.exists(name)
    assert storage.open(name).read() == b"unicode"
    assert storage.listdir("dir with space") == ([], ["файл ü 名 (1).txt"])
    storage.delete(name)
    assert not storage.exists(name)


def test_backslashes_are_directory_separators(storage):
    name = storage.save("win\\style\\name.txt", ContentFile(b"x"))
    assert name == "win/style/name.txt"
    assert storage.exists("win/style/name.txt")


# -- missing files -------------------------------------------------------------

def test_missing_file_errors(storage):
    with pytest.raises(FileNotFoundError):
        storage.open("nope.txt")
    with pytest.raises(FileNotFoundError):
        storage.size("nope.txt")
    with pytest.raises(FileNotFoundError):
        storage.get_modified_time("nope.txt")
    assert storage.exists("nope.txt") is False
    storage.delete("nope.txt")  # no error


def test_delete_requires_a_name(storage):
    with pytest.raises(ValueError):
        storage.delete("")


# -- listing -------------------------------------------------------------------

def test_listdir_returns_direct_children_only(storage):
    for name in ["a.txt", "b.txt", "dir1/c.txt", "dir1/sub/d.txt", "dir2/e.txt"]:
        storage.save(name, ContentFile(name.encode()))
    assert storage.listdir("") == (["dir1", "dir2"], ["a.txt", "b.txt"])
    assert storage.listdir("dir1") == (["sub"], ["c.txt"])
    assert storage.listdir("dir1/") == (["sub"], ["c.txt"])
    assert storage.listdir("dir1/sub") == ([], ["d.txt"])
    assert storage.listdir("missing-dir") == ([], [])


def test_listdir_follows_every_page(storage):
    names = [f"many/f{i:05d}" for i in range(1005)] + [f"many/d{i}/x" for i in range(3)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: storage.save(n, ContentFile(b"")), names))
    dirs, files = storage.listdir("many")
    assert dirs == ["d0", "d1", "d2"]
    assert files == [f"f{i:05d}" for i in range(1005)]


# -- times -----------------------------------------------------------------------

@pytest.mark.capability("modified_time")
def test_modified_time_is_aware_iff_use_tz(storage):
    before = datetime.now(timezone.utc) - timedelta(minutes=2)
    storage.save("timed.txt", ContentFile(b"t"))
    with override_settings(USE_TZ=True):
        modified = storage.get_modified_time("timed.txt")
        assert modified.tzinfo is not None
        assert before < modified < datetime.now(timezone.utc) + timedelta(minutes=2)
    with override_settings(USE_TZ=False):
        naive = storage.get_modified_time("timed.txt")
        assert naive.tzinfo is None
        # Naive times are in the project's time zone (TIME_ZONE), like Django's own storages.
        local_now = datetime.now(ZoneInfo(settings.TIME_ZONE)).replace(tzinfo=None)
        assert abs(naive - local_now) < timedelta(minutes=2)


@pytest.mark.capability("created_time")
def test_created_time(storage):
    storage.save("created.txt", ContentFile(b"t"))
    created = storage.get_created_time("created.txt")
    assert created.tzinfo is not None
    assert abs(created - datetime.now(timezone.utc)) < timedelta(minutes=2)


@pytest.mark.capability("accessed_time")
def test_accessed_time(storage):
    storage.save("accessed.txt", ContentFile(b"t"))
    accessed = storage.get_accessed_time("accessed.txt")
    assert abs(accessed - datetime.now(timezone.utc)) < timedelta(minutes=2)


def test_missing_capability_is_declared_not_faked(storage):
    for capability, reason in storage.unsupported.items():
        assert reason and isinstance(reason, str)
        if capability.endswith("_time"):
            storage.save("cap.txt", ContentFile(b"x"))
            with pytest.raises(NotImplementedError):
                getattr(storage, f"get_{capability}")("cap.txt")


# -- names and the overwrite policy ----------------------------------------------

def test_overwrite_on_replaces(storage_factory):
    storage = storage_factory(file_overwrite=True)
    assert storage.save("same.txt", ContentFile(b"one")) == "same.txt"
    assert storage.save("same.txt", ContentFile(b"two")) == "same.txt"
    assert storage.open("same.txt").read() == b"two"


def test_overwrite_off_picks_new_name(storage_factory):
    storage = storage_factory(file_overwrite=False)
    first = storage.save("same.txt", ContentFile(b"one"))
    second = storage.save("same.txt", ContentFile(b"two"))
    assert first == "same.txt"
    assert second != first and second.startswith("same_") and second.endswith(".txt")
    assert storage.open(first).read() == b"one"
    assert storage.open(second).read() == b"two"


@pytest.mark.capability("create_only")
def test_concurrent_saves_never_overwrite(storage_factory):
    """Twelve writers race for one name: each gets a name of its own holding its bytes."""
    race_rounds(storage_factory, rounds=1)


@pytest.mark.storage_stress
@pytest.mark.capability("create_only")
def test_concurrent_saves_never_overwrite_50_rounds(storage_factory):
    """The same race, fifty rounds (``pytest -m storage_stress``; CI runs it)."""
    race_rounds(storage_factory, rounds=STRESS_ROUNDS)


def test_get_available_name_respects_max_length(storage_factory):
    storage = storage_factory(file_overwrite=False)
    storage.save("dir/longfilename.txt", ContentFile(b"x"))
    name = storage.get_available_name("dir/longfilename.txt", max_length=20)
    assert len(name) <= 20 and name != "dir/longfilename.txt"
    assert name.startswith("dir/") and name.endswith(".txt")
    assert not storage.exists(name)
    with pytest.raises(SuspiciousFileOperation):
        storage.get_available_name("dir/longfilename.txt", max_length=8)
    saved = storage.save("dir/longfilename.txt", ContentFile(b"y"), max_length=20)
    assert len(saved) <= 20 and storage.open(saved).read() == b"y"


def test_overwrite_on_truncates_to_max_length(storage_factory):
    storage = storage_factory(file_overwrite=True)
    name = storage.save("averyveryverylongname.txt", ContentFile(b"x"), max_length=12)
    assert len(name) <= 12 and name.endswith(".txt")
    assert storage.open(name).read() == b"x"


@pytest.mark.parametrize("bad", TRAVERSAL_NAMES)
def test_traversal_names_are_refused_and_nothing_written(storage, bad):
    with pytest.raises(SuspiciousFileOperation):
        storage.save(bad, ContentFile(b"evil"))
    with pytest.raises(SuspiciousFileOperation):
        storage.open(bad, "wb")
    for call in (storage.open, storage.exists, storage.size, storage.delete, storage.url):
        with pytest.raises(SuspiciousFileOperation):
            call(bad)
    with pytest.raises(SuspiciousFileOperation):
        storage.listdir(bad)
    assert storage.listdir("") == ([], [])


# -- failures leave nothing behind -------------------------------------------------

@pytest.mark.parametrize("multipart", [False, True], ids=["small", "multipart"])
def test_failed_save_leaves_no_object(storage, multipart):
    limit = storage.part_size * 2 + 10 if multipart else 100
    with pytest.raises(OSError, match="source failed"):
        storage.save("failed.bin", File(FailingSource(limit), name="failed.bin"))
    assert not storage.exists("failed.bin")
    assert storage.listdir("") == ([], [])


def test_failed_overwrite_keeps_the_old_bytes(storage_factory):
    storage = storage_factory(file_overwrite=True)
    storage.save("keep.bin", ContentFile(b"original"))
    with pytest.raises(OSError):
        storage.save("keep.bin", File(FailingSource(storage.part_size + 1), name="keep.bin"))
    assert storage.open("keep.bin").read() == b"original"


def test_exception_inside_with_aborts_the_write(storage):
    with pytest.raises(RuntimeError):
        with storage.open("aborted.bin", "wb") as f:
            f.write(b"half of it")
            raise RuntimeError("caller failed")
    assert not storage.exists("aborted.bin")


# -- urls, pickling, secrets -----------------------------------------------------

def test_url_is_a_string_for_the_name(storage):
    storage.save("url dir/ü file.txt", ContentFile(b"url bytes"))
    url = storage.url("url dir/ü file.txt")
    assert isinstance(url, str) and url


@pytest.mark.capability("fetchable_urls")
def test_url_serves_the_bytes(storage):
    storage.save("url dir/ü file.txt", ContentFile(b"url bytes"))
    with urllib.request.urlopen(storage.url("url dir/ü file.txt"), timeout=10) as response:
        assert response.read() == b"url bytes"


SECRET_KEYS = ("pass", "secret", "token", "key", "credential")


def _strings(value):
    """The secret strings of a secret option: the value itself, or inside a dict
    (connection parameters, say) the values under secret-looking keys."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if any(word in str(key).lower() for word in SECRET_KEYS):
                yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def _secrets(storage):
    public = storage.option_values()
    return [text for k, v in storage.option_values(include_secrets=True).items() if k not in public
            for text in _strings(v) if len(text) >= 6]


def test_storage_pickles_without_secrets(storage):
    secrets = _secrets(storage)
    dumped = pickle.dumps(storage)
    for secret in secrets:
        assert secret.encode() not in dumped
    restored = pickle.loads(dumped)
    assert type(restored) is type(storage)
    public = storage.option_values()
    assert {k: v for k, v in restored.option_values().items() if k in public} == public


def test_repr_hides_secrets(storage):
    secrets = _secrets(storage)
    text = repr(storage) + str(storage)
    for secret in secrets:
        assert secret not in text
    assert type(storage).__name__ in text
