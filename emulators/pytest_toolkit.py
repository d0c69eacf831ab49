"""What the pytest plugin (emulators.pytest_plugin) offers downstream projects, beyond its fixtures:

- the ``emulated_storages`` fixture's object (:class:`EmulatedStoragesFixture`);
- ``@pytest.mark.storages("s3", "gcs", ...)``: run a test once per named backend (filtered by
  ``--storage-backend``) with ``STORAGES`` on a fresh namespace of its emulator;
- ``--storage-class=dotted.path``: run the conformance suite (``emulators.contract``) with a
  project's own subclass of a backend instead of the backend itself.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from .base import Emulator
from .django import DEFAULT_ALIASES, _CurrentUse, emulated_storages
from .registry import EMULATORS, Target, emulator_class

MARKER = "storages"
MARKER_HELP = (
    "storages(*backends, aliases=('default', 'staticfiles'), **options): run the test once per "
    "backend (all if none named; filtered by --storage-backend) with STORAGES on a fresh namespace "
    "of its emulator; the `storages_backend` fixture names the backend, `emulated_storages` reaches it"
)
_CLASS_KEY = pytest.StashKey[type]()


class EmulatedStoragesFixture(_CurrentUse):
    """The ``emulated_storages`` fixture: call it to point ``STORAGES`` at an emulated backend.

    ``emulated_storages(backend="s3", *, aliases=("default", "staticfiles"), **options)``
    makes a fresh namespace, overrides the aliases' entries until the test ends and returns
    the first alias's storage. ``.storage``, ``.namespace`` (seed and inspect),
    ``.emulator``, ``.options`` and ``.backend`` describe the latest call (or the backend
    ``@pytest.mark.storages`` chose).
    """

    def __init__(self, get_emulator: Callable[[str], Emulator]) -> None:
        self._get_emulator = get_emulator
        self._uses: list[emulated_storages] = []

    def __call__(self, backend: str = "s3", *, aliases: tuple[str, ...] = DEFAULT_ALIASES,
                 **options: Any) -> Any:
        use = emulated_storages(backend, aliases=aliases, emulator=self._get_emulator, **options)
        storage = use.start()
        self._uses.append(use)
        return storage

    def _current(self) -> emulated_storages:
        if not self._uses:
            raise RuntimeError("call emulated_storages(backend) first (or mark the test "
                               "@pytest.mark.storages(...))")
        return self._uses[-1]

    @property
    def backend(self) -> str:
        return self._current().backend

    def stop(self) -> None:
        """Restore ``STORAGES`` (the fixture does this when the test ends)."""
        while self._uses:
            self._uses.pop().stop()


def parametrize_marked(metafunc: pytest.Metafunc, selected: list[str]) -> None:
    """Parametrize a ``@pytest.mark.storages`` test over its backends that ``--storage-backend`` selects."""
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    names = list(marker.args) or list(EMULATORS)
    unknown = [name for name in names if name not in EMULATORS]
    if unknown:
        raise ValueError(f"@pytest.mark.storages: unknown backend(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(EMULATORS)}")
    chosen = [name for name in names if name in selected]
    if chosen:
        metafunc.parametrize("storages_backend", chosen, ids=chosen, indirect=True)
        return
    reason = f"none of {', '.join(names)} is selected by --storage-backend={','.join(selected)}"
    metafunc.parametrize("storages_backend", [pytest.param(None, marks=pytest.mark.skip(reason=reason))],
                         ids=["unselected"], indirect=True)


def apply_marked(request: pytest.FixtureRequest) -> str | None:
    """For the ``storages_backend`` fixture: point ``STORAGES`` at this run's backend."""
    name = getattr(request, "param", None)
    if name is None:
        return None
    marker = request.node.get_closest_marker(MARKER)
    request.getfixturevalue("emulated_storages")(name, **(marker.kwargs if marker else {}))
    return name


# -- --storage-class -------------------------------------------------------------------------

def custom_class(config: pytest.Config) -> type | None:
    """The ``--storage-class`` class, imported once; a usage error if it cannot be."""
    path = config.getoption("--storage-class")
    if not path:
        return None
    cls = config.stash.get(_CLASS_KEY, None)
    if cls is None:
        from django.core.files.storage import Storage
        from django.utils.module_loading import import_string

        try:
            cls = import_string(path)
        except ImportError as exc:
            raise pytest.UsageError(f"--storage-class: cannot import {path!r}: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Storage)):
            raise pytest.UsageError(f"--storage-class: {path!r} is not a Django Storage class")
        config.stash[_CLASS_KEY] = cls
    return cls


def targets_for_class(config: pytest.Config, targets: list[Target]) -> list[Target]:
    """The targets whose backend ``--storage-class`` subclasses (all of them without the option)."""
    cls = custom_class(config)
    if cls is None:
        return targets
    from django.utils.module_loading import import_string

    kept = [t for t in targets if issubclass(cls, import_string(emulator_class(t.selection).backend))]
    if not kept:
        offered = ", ".join(f"{t.id} ({emulator_class(t.selection).backend})" for t in targets) or "none"
        raise pytest.UsageError(
            f"--storage-class: {cls.__module__}.{cls.__qualname__} subclasses the backend of no selected "
            f"target; selected: {offered}. Choose its backend with --storage-backend.")
    return kept


def storage_class(config: pytest.Config, backend: str) -> type:
    """The class the ``storage`` fixtures make for a target of ``backend``."""
    from django.utils.module_loading import import_string

    return custom_class(config) or import_string(backend)
