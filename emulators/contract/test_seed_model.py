"""SEED.md, "Model": FieldFile behaviour through a model, on every backend.

Python 3 reads bytes where the seed (Python 2) showed str; saving the same name
twice gives today's Django suffix where the seed shows the old ``_``; deleting
a model object leaves its file alone (Django's behaviour since 1.3).
"""

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.files.base import ContentFile

from .storage import swappable

APP = "emulators.contract"
if apps.is_installed(APP):
    from .models import MyStorage

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not apps.is_installed(APP),
                       reason=f"the model examples need {APP!r} in INSTALLED_APPS (and pytest-django)"),
]


@pytest.fixture
def model_storage(storage_factory):
    """The current target, with overwriting off (the seed's Model examples rely on it),
    installed as the storage of every field of emulators.contract.models.MyStorage."""
    storage = storage_factory(file_overwrite=False)
    swappable.use(storage)
    yield storage
    swappable.use(None)


def test_field_without_file_has_limited_functionality(model_storage):
    obj1 = MyStorage()
    assert repr(obj1.normal) == "<FieldFile: None>"
    with pytest.raises(ValueError, match="The 'normal' attribute has no file associated with it."):
        obj1.normal.size  # noqa: B018 - the attribute access is what raises


def test_model_walkthrough(model_storage):
    storage = model_storage
    obj1 = MyStorage()
    obj1.normal.save("django_test.txt", ContentFile("content"))
    assert repr(obj1.normal) == "<FieldFile: tests/django_test.txt>"
    assert obj1.normal.size == 7
    assert obj1.normal.read() == b"content"

    # Files can be read in a little at a time.
    obj1.normal.open()
    assert obj1.normal.read(3) == b"con"
    assert obj1.normal.read() == b"tent"
    assert b"-".join(obj1.normal.chunks(chunk_size=2)) == b"co-nt-en-t"

    # Another file with the same name gets a new name; the first is untouched.
    obj2 = MyStorage()
    obj2.normal.save("django_test.txt", ContentFile("more content"))
    second = obj2.normal.name
    assert second != "tests/django_test.txt"
    assert second.startswith("tests/django_test_") and second.endswith(".txt")
    assert obj2.normal.size == 12
    assert storage.open("tests/django_test.txt").read() == b"content"

    # The objects pickle through Django's cache.
    cache.set("obj1", obj1)
    cache.set("obj2", obj2)
    restored = cache.get("obj2")
    assert repr(restored.normal) == f"<FieldFile: {second}>"
    assert restored.normal.read() == b"more content"
    assert cache.get("obj1").normal.size == 7

    # Deleting a model object leaves its file alone.
    obj2.save()
    obj2.delete()
    assert storage.exists(second)
    obj2.normal.save("django_test.txt", ContentFile("more content"))
    assert obj2.normal.name not in {"tests/django_test.txt", second}
    assert storage.open(second).read() == b"more content"

    # Clean up: FieldFile.delete removes the files.
    for name in ("tests/django_test.txt", second, obj2.normal.name):
        storage.delete(name)
        assert not storage.exists(name)
    obj1.normal.delete()
    assert obj1.normal.name is None


def test_default_file_is_never_deleted(model_storage):
    storage = model_storage
    storage.save("tests/default.txt", ContentFile(b"default content"))

    obj3 = MyStorage.objects.create()
    assert repr(obj3.default) == "<FieldFile: tests/default.txt>"
    assert obj3.default.read() == b"default content"
    obj3.default.close()

    obj3.delete()
    obj3 = MyStorage()
    assert obj3.default.read() == b"default content"
    obj3.default.close()
    assert storage.exists("tests/default.txt")

    obj3.default.delete()
    assert not storage.exists("tests/default.txt")


def test_upload_to_callable_is_evaluated_once(model_storage):
    storage = model_storage
    obj4 = MyStorage()
    obj4.random.save("random_file", ContentFile("random content"))
    name = obj4.random.name
    assert name.endswith("/random_file") and name.count("/") == 1
    # The name the field reports is exactly where the bytes are.
    assert storage.open(name).read() == b"random content"
    obj4.random.delete()
    assert not storage.exists(name)


def test_callable_upload_to_and_str_content(model_storage):
    obj = MyStorage()
    obj.custom.save("random_file", ContentFile("custom content"))
    assert obj.custom.name == "custom/random_file"
    assert model_storage.open("custom/random_file", "r").read() == "custom content"
