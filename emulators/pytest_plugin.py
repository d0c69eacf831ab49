"""pytest plugin: emulated storage services for this repo and for downstream projects.

Registered through the ``pytest11`` entry point. Options (group "storages"):

``--storage-backend=all|s3,gcs,...``
    which backends the parametrized ``storage`` fixture runs against.
``--storage-strict``
    an emulator that cannot start fails the test instead of skipping it.
``--storage-class=dotted.path``
    the ``storage`` fixtures make this subclass of the target's backend (the contract
    for custom storages: ``emulators.contract``).
``--storage-emulators=native|docker|external``
    how the session obtains its emulators (docs/containers.md); ``--storage-live``
    lets ``external`` use real cloud services.

Fixtures: ``storage`` (a fresh, empty namespace per test, parametrized over the
selected targets), ``storage_emulators`` (the session's emulators),
``<name>_emulator`` per service (``s3_emulator``, ``gcs_emulator``, ...), and
``emulated_storages`` for a downstream project's tests to point Django's
``STORAGES`` at an emulated backend (``storages_backend``: the backend of a
``@pytest.mark.storages`` run). Marker ``capability(name, ...)`` skips a
test, with the backend's reason, on a backend that declares it cannot do that
(a name that is not a ``storages.core.Capability`` fails the test); marker
``storages(*backends)`` runs a test once per backend (emulators.pytest_toolkit); marker
``storage_stress`` marks long stress variants, deselected unless ``-m`` names them
(``pytest -m storage_stress``).
``storage_requests`` records the calls a test makes to the emulated services,
``storage_faults`` injects faults into them (emulators.pytest_observe).
"""

from __future__ import annotations

import os
from typing import Any, Callable, Iterator

import pytest

from . import pytest_toolkit as toolkit
from .base import EmulatorUnavailable
from .django import use_session
from .modes import LIVE_ENV, MODE_ENV, MODES, NativeOnly
from .pytest_observe import storage_faults, storage_requests  # noqa: F401 (fixtures)
from .registry import EMULATORS, Target, load, targets_for
from .session import EmulatorSession

STRESS_MARKER = "storage_stress"
STRESS_HELP = ("a long stress variant (many rounds of a race), collected only when -m names it, "
               "e.g. pytest -m storage_stress")
_SESSION_KEY = pytest.StashKey[EmulatorSession]()
_SELECTED_KEY = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("storages", "storage backends on local emulators")
    group.addoption(
        "--storage-backend",
        default=os.environ.get("STORAGE_BACKEND", "all"),
        help=f"'all' or a comma list of: {', '.join(EMULATORS)} (default: all, or $STORAGE_BACKEND)",
    )
    group.addoption(
        "--storage-strict",
        action="store_true",
        default=os.environ.get("STORAGE_STRICT", "") not in ("", "0"),
        help="fail, instead of skip, tests whose emulator cannot run here",
    )
    group.addoption(
        "--storage-class",
        default=None,
        help="run the storage fixtures (the conformance suite) with this subclass of the selected "
             "backend's class, e.g. myproject.storage.MyS3Storage",
    )
    group.addoption(
        "--storage-emulators",
        default=os.environ.get(MODE_ENV) or "native",
        help=f"how emulators are obtained: {', '.join(MODES)} (default: native, or ${MODE_ENV})",
    )
    group.addoption(
        "--storage-live",
        action="store_true",
        default=os.environ.get(LIVE_ENV, "") not in ("", "0"),
        help="let --storage-emulators=external run against real cloud services (creates and deletes "
             "buckets/containers/folders there)",
    )


def parse_selection(value: str) -> list[str]:
    """'all' or a comma list of known names; anything else is a usage error."""
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names or names == ["all"]:
        return list(EMULATORS)
    unknown = [n for n in names if n not in EMULATORS]
    if unknown:
        raise pytest.UsageError(
            f"--storage-backend: unknown backend(s) {', '.join(unknown)}; "
            f"valid: all, {', '.join(EMULATORS)}"
        )
    return names


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "capability(*names): the test needs these backend capabilities"
    )
    config.addinivalue_line("markers", toolkit.MARKER_HELP)
    config.addinivalue_line("markers", f"{STRESS_MARKER}: {STRESS_HELP}")
    config.stash[_SELECTED_KEY] = parse_selection(config.getoption("--storage-backend"))
    mode = config.getoption("--storage-emulators")
    if mode not in MODES:
        raise pytest.UsageError(f"--storage-emulators: unknown mode {mode!r}; valid: {', '.join(MODES)}")
    config.stash[_SESSION_KEY] = EmulatorSession(mode, live=config.getoption("--storage-live"))
    use_session(config.stash[_SESSION_KEY], strict=config.getoption("--storage-strict"))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Stop here, not only at unconfigure: an xdist worker's unconfigure gets 10 s before it
    # is killed, too little to delete a live run's namespaces or remove containers.
    emulators = session.config.stash.get(_SESSION_KEY, None)
    if emulators is not None:
        emulators.stop()


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION_KEY, None)
    if session is not None:
        use_session(None)
        session.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    try:
        return (yield)
    except NativeOnly as exc:  # a container/external emulator declares it lacks this feature
        pytest.skip(str(exc))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    try:
        return (yield)
    except NativeOnly as exc:
        pytest.skip(str(exc))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Stress variants stay out of a run unless its ``-m`` expression names them."""
    if STRESS_MARKER in (config.getoption("markexpr", "") or ""):
        return
    stress = [item for item in items if item.get_closest_marker(STRESS_MARKER)]
    if stress:
        config.hook.pytest_deselected(items=stress)
        items[:] = [item for item in items if not item.get_closest_marker(STRESS_MARKER)]


def pytest_report_header(config: pytest.Config) -> str | None:
    session = config.stash.get(_SESSION_KEY, None)
    if session is not None and session.mode != "native":
        live = " (live services allowed)" if session.live else ""
        return f"storages: emulators from {session.mode}{live}"
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "storage_target" in metafunc.fixturenames:
        selected = targets_for(metafunc.config.stash[_SELECTED_KEY])
        targets = toolkit.targets_for_class(metafunc.config, selected)
        metafunc.parametrize("storage_target", targets, ids=[t.id for t in targets], indirect=True)
    toolkit.parametrize_marked(metafunc, metafunc.config.stash[_SELECTED_KEY])


@pytest.fixture(scope="session")
def storage_emulators(pytestconfig: pytest.Config) -> EmulatorSession:
    """The session's emulators, started lazily by name: ``storage_emulators.get("s3")``."""
    return pytestconfig.stash[_SESSION_KEY]


def _unavailable(config: pytest.Config, what: str, exc: Exception) -> None:
    message = f"{what} cannot run here: {exc}"
    if config.getoption("--storage-strict"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def get_emulator(request: pytest.FixtureRequest, name: str) -> Any:
    """The session's started emulator ``name``, or skip/fail saying why it cannot run."""
    session: EmulatorSession = request.config.stash[_SESSION_KEY]
    try:
        return session.get(name)
    except EmulatorUnavailable as exc:
        _unavailable(request.config, f"the {name} emulator", exc)


@pytest.fixture
def storage_target(request: pytest.FixtureRequest) -> Target:
    """The conformance target of this test (parametrized by --storage-backend)."""
    return request.param


@pytest.fixture
def storage_factory(request: pytest.FixtureRequest, storage_target: Target) -> Callable[..., Any]:
    """Make storages of the current target in one fresh namespace; extra kwargs are options."""
    factory = load(storage_target.factory)
    try:
        backend, options = factory(lambda name: get_emulator(request, name))
    except EmulatorUnavailable as exc:
        _unavailable(request.config, f"the {storage_target.id} target", exc)
    cls = toolkit.storage_class(request.config, backend)
    needed = [c for mark in request.node.iter_markers("capability") for c in mark.args]
    if needed:
        from storages.core.capabilities import capability

        try:
            needed = [capability(name) for name in needed]
        except TypeError as exc:  # a typo must not skip the test quietly
            pytest.fail(f"@pytest.mark.capability: {exc}", pytrace=False)
        unsupported = cls(**options).unsupported
        for name in needed:
            if name in unsupported:
                pytest.skip(f"{storage_target.id} cannot do {name}: {unsupported[name]}")

    def make(**overrides: Any) -> Any:
        return cls(**{**options, **overrides})

    make.options = options  # type: ignore[attr-defined]
    make.backend = backend  # type: ignore[attr-defined]
    return make


@pytest.fixture
def storage(storage_factory: Callable[..., Any]) -> Any:
    """A storage of the current target, in a fresh, empty namespace of its own."""
    return storage_factory()


def _emulator_fixture(name: str) -> Callable[..., Any]:
    @pytest.fixture(scope="session", name=f"{name}_emulator")
    def fixture(request: pytest.FixtureRequest) -> Any:
        return get_emulator(request, name)

    fixture.__doc__ = f"The session's started {name} emulator."
    return fixture


for _name in EMULATORS:
    globals()[f"{_name}_emulator_fixture"] = _emulator_fixture(_name)


@pytest.fixture
def emulated_storages(request: pytest.FixtureRequest) -> Iterator[toolkit.EmulatedStoragesFixture]:
    """Point Django's ``STORAGES`` at an emulated backend for one test.

    ``emulated_storages("s3")`` (or any selection name) starts the emulator if
    needed, makes a fresh namespace, overrides ``STORAGES["default"]`` and
    ``STORAGES["staticfiles"]`` (``aliases=`` to choose) and returns the
    default storage. Extra keyword arguments become backend OPTIONS.
    ``emulated_storages.namespace`` seeds and inspects what the service holds.
    """
    fixture = toolkit.EmulatedStoragesFixture(lambda name: get_emulator(request, name))
    yield fixture
    fixture.stop()


@pytest.fixture(autouse=True)
def storages_backend(request: pytest.FixtureRequest) -> str | None:
    """The backend this run of a ``@pytest.mark.storages`` test uses (``None`` for other tests)."""
    return toolkit.apply_marked(request)
