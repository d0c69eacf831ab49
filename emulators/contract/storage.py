"""A storage that forwards to whichever backend the current test selected."""

from django.core.files.storage import Storage
from django.utils.functional import LazyObject


class _Unselected(Storage):
    """Placeholder until a test selects a backend; any real use is an error."""

    def _open(self, name, mode="rb"):
        raise RuntimeError("no storage selected: use the `model_storage` fixture")

    _save = exists = _open


class SwappableStorage(LazyObject):
    def _setup(self):
        self._wrapped = _Unselected()

    def use(self, storage):
        self._wrapped = storage if storage is not None else _Unselected()


swappable = SwappableStorage()
