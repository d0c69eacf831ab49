"""Fixtures of the conformance suite (the `storage` fixture comes from the plugin)."""

import pytest

from tests.testapp.storage import swappable


@pytest.fixture
def model_storage(storage_factory):
    """The current target, with overwriting off (the seed's Model examples rely on it),
    installed as the storage of every field of tests.testapp.models.MyStorage."""
    storage = storage_factory(file_overwrite=False)
    swappable.use(storage)
    yield storage
    swappable.use(None)
