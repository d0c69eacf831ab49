"""Fixtures for the browser tests: one example site per backend, one headless Chromium.

Run by ``./dev e2e`` (not part of ``./dev test``). ``--storage-backend`` selects
the backends, as for the main suite. Every selected site starts at once, in its
own process, the first time a test needs one; each stops at the end.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator

import psutil
import pytest

from emulators.pytest_plugin import parse_selection
from emulators.registry import targets_for

from .browser import INSTALL_HINT, LAUNCH_ARGS, browser_required, find_chromium, trusting_home
from .sites import SiteProcess, SiteUnavailable

#: Backends whose url() a browser cannot load; test_demo checks that the site refuses them.
NOT_SERVABLE = {"libcloud-local"}


def selected_backends(config: pytest.Config) -> list[str]:
    selection = parse_selection(config.getoption("--storage-backend"))
    return [t.id for t in targets_for(selection) if t.id not in NOT_SERVABLE]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        backends = selected_backends(metafunc.config)
        metafunc.parametrize("backend", backends, ids=backends)


@pytest.fixture(scope="session")
def site_processes(request: pytest.FixtureRequest) -> Iterator[dict[str, SiteProcess]]:
    """Every selected backend's site, started in parallel; stopped (SIGTERM) at the end."""
    log_dir = Path(tempfile.mkdtemp(prefix="storages-e2e-"))
    sites = {name: SiteProcess(name, log_dir) for name in selected_backends(request.config)}
    yield sites
    children = {name: site.children() for name, site in sites.items()}
    for site in sites.values():
        site.terminate()
    codes = {name: (site.started, site.stop()) for name, site in sites.items()}
    unclean = [f"{name} exited with {code}" for name, (started, code) in codes.items() if started and code]
    _, alive = psutil.wait_procs([c for group in children.values() for c in group], timeout=10)
    unclean += [f"left running: {' '.join(process.cmdline())}" for process in alive]
    assert not unclean, "sites did not stop cleanly on SIGTERM:\n" + "\n".join(unclean)


def _ready(request: pytest.FixtureRequest, process: SiteProcess) -> dict[str, Any]:
    try:
        return process.ready()
    except SiteUnavailable as exc:
        message = f"the {process.backend} site cannot run here: {exc}"
        if request.config.getoption("--storage-strict"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture
def site(request: pytest.FixtureRequest, backend: str,
         site_processes: dict[str, SiteProcess]) -> dict[str, Any]:
    """The running site of ``backend``: its JSON line (url, admin_url, username, password, endpoint, ...)."""
    return _ready(request, site_processes[backend])


def _missing(message: str) -> None:
    """A missing browser fails where ./dev e2e could have installed it, and skips elsewhere."""
    if browser_required():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browsers() -> Iterator[Callable[[str | None], Any]]:
    """``browsers(ca_file)``: headless Chromium trusting ``ca_file`` (a site's own CA, e.g. the
    Dropbox fake's) and no other extra certificate; one browser per CA, launched on first use."""
    executable = find_chromium()
    if executable is None:
        _missing(f"no Chromium found: {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    launched: dict[str | None, Any] = {}
    with sync_playwright() as playwright:
        def get(ca_file: str | None) -> Any:
            if ca_file not in launched:
                try:
                    home = trusting_home(Path(tempfile.mkdtemp(prefix="storages-e2e-home-")),
                                         [ca_file] if ca_file else [])
                except FileNotFoundError as exc:
                    _missing(str(exc))
                launched[ca_file] = playwright.chromium.launch(
                    executable_path=executable, args=LAUNCH_ARGS, env={**os.environ, "HOME": str(home)})
            return launched[ca_file]

        yield get
        for browser in launched.values():
            browser.close()


@pytest.fixture
def page(site: dict[str, Any], browsers: Callable[[str | None], Any]) -> Iterator[Any]:
    """A fresh browser context and page for ``site``; ``page.failures`` lists the requests that
    failed (status >= 400, or no response)."""
    context = browsers(site["ca_file"]).new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    failures: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.status} {r.url}"))
    page.on("requestfailed", lambda r: failures.append(f"{r.failure} {r.url}"))
    page.failures = failures
    yield page
    context.close()
