"""Emulated storages for Django's own test runner (``manage.py test``) and ``django.test`` classes.

- :class:`emulated_storages` ``("s3")``: a decorator for ``SimpleTestCase``/``TestCase``
  classes and test methods, a context manager (``with emulated_storages("gcs") as
  storage:``), or ``start()``/``stop()``. Each use makes a fresh namespace (bucket,
  container or root directory) on the emulator, points ``STORAGES["default"]`` and
  ``STORAGES["staticfiles"]`` (or ``aliases=``) at it and restores ``STORAGES`` after.
- :class:`EmulatedStoragesMixin`: the same for every test of a ``TestCase`` subclass,
  chosen by class attributes.
- :class:`EmulatedStoragesRunner` (``TEST_RUNNER``) or :class:`EmulatedStoragesRunnerMixin`:
  starts the emulators the suite's classes name once, in the main process, before
  ``--parallel`` workers fork from it (they share them), and stops them at the end.

Emulators start once per process, lazily, and stop when it exits; under pytest they are
the plugin's session's. An emulator that cannot run here skips the test
(``unittest.SkipTest``, with the reason) unless ``STORAGE_STRICT=1``, which makes it an error.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import unittest
from typing import Any, Callable, Iterable, Iterator

from .base import Emulator, EmulatorUnavailable
from .registry import EMULATORS
from .session import EmulatorSession

DEFAULT_ALIASES = ("default", "staticfiles")


# -- the process's emulators ------------------------------------------------------------------

class _ProcessEmulators:
    """The emulators of this process: a session started lazily, stopped when the process exits.

    After a fork (``manage.py test --parallel``), emulators the parent had started keep
    serving from the parent and are used as they are; the child starts (and stops at its
    exit) only those it needs that the parent had not started.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._session: EmulatorSession | None = None
        self._owned = True
        self._pid = os.getpid()
        self._got: dict[str, Emulator] = {}
        self._inherited: dict[str, Emulator] = {}
        self.strict: bool | None = None

    def use(self, session: EmulatorSession | None, *, strict: bool | None) -> None:
        self.stop()  # a session of this process's own that was started before
        with self._lock:
            self._session, self._owned, self.strict = session, session is None, strict
            self._pid, self._got, self._inherited = os.getpid(), {}, {}

    def get(self, name: str) -> Emulator:
        with self._lock:
            if os.getpid() != self._pid:
                self._forked()
            if name in self._inherited:
                return self._inherited[name]
            if self._session is None:
                self._session, self._owned = EmulatorSession(), True
                _stop_at_exit(self)
            emulator = self._session.get(name)
            self._got[name] = emulator
            return emulator

    def _forked(self) -> None:
        self._inherited.update(self._got)
        self._session, self._owned, self._got, self._pid = None, True, {}, os.getpid()

    def stop(self) -> None:
        """Stop the emulators this process started (never a parent's, nor a pytest session's)."""
        with self._lock:
            session, owned = self._session, self._owned
            if os.getpid() != self._pid or session is None or not owned:
                return
            self._session, self._got = None, {}
        session.stop()

    def is_strict(self) -> bool:
        if self.strict is not None:
            return self.strict
        return os.environ.get("STORAGE_STRICT", "") not in ("", "0")


def _stop_at_exit(emulators: _ProcessEmulators) -> None:
    # multiprocessing's finalizers run at interpreter exit and when a multiprocessing worker
    # (--parallel) ends, which atexit does not; each runs only in the process that made it.
    from multiprocessing import util

    util.Finalize(emulators, emulators.stop, exitpriority=10)


_EMULATORS = _ProcessEmulators()


def use_session(session: EmulatorSession | None, *, strict: bool | None = None) -> None:
    """Make ``session`` this process's emulators (the pytest plugin passes its own: one set per run);
    ``None`` goes back to a session of this process's own, started lazily. ``strict`` overrides
    ``STORAGE_STRICT``."""
    _EMULATORS.use(session, strict=strict)


def process_emulator(name: str) -> Emulator:
    """The started emulator ``name`` of this test run: ``unittest.SkipTest`` saying why when it
    cannot run here, or, with ``STORAGE_STRICT=1``, the error itself."""
    _check_backend(name)
    try:
        return _EMULATORS.get(name)
    except EmulatorUnavailable as exc:
        if _EMULATORS.is_strict():
            raise
        raise unittest.SkipTest(f"the {name} emulator cannot run here: {exc}") from exc


def stop_emulators() -> None:
    """Stop the emulators this process started (done anyway when the process exits)."""
    _EMULATORS.stop()


def _check_backend(name: str) -> None:
    if name not in EMULATORS:
        raise ValueError(f"unknown storage backend {name!r}; valid: {', '.join(EMULATORS)}")


# -- pointing STORAGES at a fresh namespace ----------------------------------------------------

class _Use:
    """One active use: the override to undo and what the test can reach."""

    def __init__(self, emulator: Emulator, options: dict[str, Any], override: Any, aliases: tuple[str, ...]):
        from django.core.files.storage import storages

        self.emulator = emulator
        self.options = options
        self.override = override
        self.aliases = aliases
        self.namespace = emulator.namespace(options)
        self.storage = storages[aliases[0]]


class _CurrentUse:
    """``storage``, ``namespace``, ``emulator`` and ``options`` of the use ``_current()`` returns."""

    def _current(self) -> Any:
        raise NotImplementedError

    @property
    def storage(self) -> Any:
        return self._current().storage

    @property
    def namespace(self) -> Any:
        return self._current().namespace

    @property
    def emulator(self) -> Emulator:
        return self._current().emulator

    @property
    def options(self) -> dict[str, Any]:
        return self._current().options


class emulated_storages(_CurrentUse):  # noqa: N801 - used like a function: @emulated_storages("s3")
    """Point ``STORAGES`` at a fresh namespace of an emulated backend for a test.

    ``emulated_storages(backend, aliases=("default", "staticfiles"), **options)``:
    ``options`` are extra backend OPTIONS. Use it as a class decorator (every test gets
    its own namespace, applied before ``setUp``; the test gets ``self.storage`` and
    ``self.storage_namespace``), a method or function decorator, a context manager
    (``as`` gives the storage of the first alias) or with ``start()``/``stop()``.
    While active, ``.storage``, ``.namespace`` (:class:`emulators.seed.Namespace`),
    ``.emulator`` and ``.options`` describe the innermost use.
    """

    def __init__(self, backend: str = "s3", *, aliases: Iterable[str] = DEFAULT_ALIASES,
                 emulator: Callable[[str], Emulator] | None = None, **options: Any) -> None:
        _check_backend(backend)
        self.backend = backend
        self.aliases = tuple(aliases)
        if not self.aliases:
            raise ValueError("emulated_storages needs at least one STORAGES alias")
        self.extra_options = options
        self._emulator = emulator or process_emulator
        self._uses: list[_Use] = []

    # -- start / stop -----------------------------------------------------------------
    def start(self) -> Any:
        """Make a fresh namespace, point the aliases at it; return the first alias's storage."""
        from django.conf import settings

        from storages.compat import override_storages

        emulator = self._emulator(self.backend)
        options = {**emulator.new_namespace(), **self.extra_options}
        entry = {"BACKEND": emulator.backend, "OPTIONS": options}
        current = {alias: dict(value) for alias, value in (getattr(settings, "STORAGES", None) or {}).items()}
        current.update({alias: entry for alias in self.aliases})
        override = override_storages(current)
        override.enable()
        try:
            use = _Use(emulator, options, override, self.aliases)
        except BaseException:
            override.disable()
            raise
        self._uses.append(use)
        return use.storage

    def stop(self) -> None:
        """Undo the innermost ``start()``: restore ``STORAGES``, close what it opened."""
        if not self._uses:
            return
        use = self._uses.pop()
        try:
            _close_storages(use.aliases)
        finally:
            use.override.disable()
            use.namespace.close()

    def _current(self) -> _Use:
        if not self._uses:
            raise RuntimeError(f"emulated_storages({self.backend!r}) is not active")
        return self._uses[-1]

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- decorator ----------------------------------------------------------------------
    def __call__(self, target: Any) -> Any:
        if isinstance(target, type):
            if not issubclass(target, unittest.TestCase):
                raise TypeError(f"@emulated_storages decorates TestCase classes and functions: {target!r}")
            return _decorate_class(target, self)
        if inspect.iscoroutinefunction(target):
            @functools.wraps(target)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with self:
                    return await target(*args, **kwargs)
            run_async.storages_backend = self.backend  # type: ignore[attr-defined]
            return run_async

        @functools.wraps(target)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return target(*args, **kwargs)

        run.storages_backend = self.backend  # type: ignore[attr-defined]
        return run

    def __repr__(self) -> str:
        return f"emulated_storages({self.backend!r}, aliases={self.aliases!r})"


def _close_storages(aliases: tuple[str, ...]) -> None:
    """Close the pooled connections (FTP, SFTP) of storages made for ``aliases``."""
    from django.core.files.storage import storages

    made = getattr(storages, "_storages", {})  # Django's cache of instances made so far
    for alias in aliases:
        close = getattr(made.get(alias), "close", None)
        if callable(close):
            close()


def _apply(test: unittest.TestCase, emulated: emulated_storages) -> None:
    test.storage = emulated.start()  # type: ignore[attr-defined]
    test.storage_namespace = emulated.namespace  # type: ignore[attr-defined]
    test.addCleanup(emulated.stop)


def _decorate_class(cls: type, emulated: emulated_storages) -> type:
    original = cls.setUp

    @functools.wraps(original)
    def setUp(self: unittest.TestCase) -> None:  # noqa: N802 - unittest's name
        _apply(self, emulated)
        original(self)

    cls.setUp = setUp  # type: ignore[method-assign]
    cls.storages_backend = emulated.backend  # type: ignore[attr-defined]
    return cls


class EmulatedStoragesMixin:
    """Every test of the ``TestCase`` runs with ``STORAGES`` on a fresh namespace of an emulator.

    Set ``storages_backend`` (default ``"s3"``), and optionally ``storages_aliases`` and
    ``storages_options`` (extra OPTIONS). Each test gets ``self.storage`` (the first
    alias's storage) and ``self.storage_namespace`` (seed and inspect). A ``setUp``
    of your own must call ``super().setUp()``.
    """

    storages_backend: str = "s3"
    storages_aliases: tuple[str, ...] = DEFAULT_ALIASES
    storages_options: dict[str, Any] = {}

    def setUp(self) -> None:  # noqa: N802 - unittest's name
        _apply(self, emulated_storages(self.storages_backend, aliases=self.storages_aliases,  # type: ignore[arg-type]
                                       **self.storages_options))
        super().setUp()  # type: ignore[misc]


# -- the test runner ----------------------------------------------------------------------

def backends_in(suite: Any) -> list[str]:
    """The backends the suite's test classes and methods declare (``storages_backend``), in order."""
    names: dict[str, None] = {}
    for test in _tests(suite):
        for owner in (type(test), getattr(test, getattr(test, "_testMethodName", ""), None)):
            name = getattr(owner, "storages_backend", None)
            if isinstance(name, str) and name in EMULATORS:
                names[name] = None
    return list(names)


def _tests(suite: Any) -> Iterator[Any]:
    children = getattr(suite, "subsuites", None)  # Django's ParallelTestSuite keeps its tests here
    for item in children if children is not None else suite:
        if isinstance(item, unittest.TestSuite) or hasattr(item, "subsuites"):
            yield from _tests(item)
        else:
            yield item


class EmulatedStoragesRunnerMixin:
    """For a ``DiscoverRunner`` subclass: start the emulators the suite needs once, in this
    process, before ``--parallel`` workers fork (they use them; none starts its own), and
    stop them when the suite has run. Emulators that cannot run here are left to each test
    to skip (or fail, strict)."""

    def run_suite(self, suite: Any, **kwargs: Any) -> Any:
        for name in backends_in(suite):
            try:
                process_emulator(name)
            except (unittest.SkipTest, EmulatorUnavailable):
                pass
        try:
            return super().run_suite(suite, **kwargs)  # type: ignore[misc]
        finally:
            stop_emulators()


def _runner() -> type:
    from django.test.runner import DiscoverRunner

    return type("EmulatedStoragesRunner", (EmulatedStoragesRunnerMixin, DiscoverRunner), {
        "__module__": __name__,
        "__doc__": "Django's DiscoverRunner with EmulatedStoragesRunnerMixin: "
                   "TEST_RUNNER = 'emulators.django.EmulatedStoragesRunner'.",
    })


def __getattr__(name: str) -> Any:
    # EmulatedStoragesRunner subclasses Django's runner: made on first use, so importing
    # this module does not import Django.
    if name == "EmulatedStoragesRunner":
        runner = _runner()
        globals()[name] = runner
        return runner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# EmulatedStoragesRunner is made on first access (see __getattr__).
__all__ = [
    "EmulatedStoragesMixin", "EmulatedStoragesRunnerMixin", "backends_in",
    "emulated_storages", "process_emulator", "stop_emulators", "use_session",
]
