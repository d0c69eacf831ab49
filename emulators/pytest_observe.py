"""The ``storage_requests`` and ``storage_faults`` fixtures (registered by emulators.pytest_plugin).

Both are scoped to one test and work with every emulated service the test
uses, whichever fixture made the storage (``storage``, ``storage_factory``,
``emulated_storages``, ``<name>_emulator``) — see docs/testing.md.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from . import observe
from .faults import FaultSet
from .modes import NativeOnly
from .observe import Recording


def _native(request: pytest.FixtureRequest, what: str) -> None:
    """Containers and external services have no proxy or hooks of ours: say so (a skip)."""
    mode = getattr(request.getfixturevalue("storage_emulators"), "mode", "native")
    if mode != "native":
        raise NativeOnly(f"{what}: the {mode} emulators are not observed (no proxy or hooks of ours)")


@pytest.fixture
def storage_requests(request: pytest.FixtureRequest) -> Iterator[Recording]:
    """The calls this test makes to the emulated services: ``storage_requests.count("get")``,
    ``.filter("put", key="media/*")``, ``.operations()``; each a ``Call(service, operation,
    key, status, bytes_in, bytes_out, ...)``."""
    _native(request, "storage_requests")
    with observe.storage_requests() as recording:
        yield recording


@pytest.fixture
def storage_faults(request: pytest.FixtureRequest) -> Iterator[FaultSet]:
    """Faults for this test only: ``storage_faults.add("put", status=503, times=2)``,
    ``.add("get", cut=1000)``, ``.add("stor", reset_before=0, service="ftp")``. Disarmed at
    the test's end; ``.fired`` lists every call a fault hit, also shown in the test's report
    (section "storage faults", with failures or ``-rA``)."""
    _native(request, "storage_faults")
    with observe.storage_faults() as faults:
        yield faults
    report = faults.report()
    if report:
        request.node.add_report_section("teardown", "storage faults", report)
        request.node.user_properties.append(("storage_faults", report))
