"""Fixtures for the browser tests: one example site per backend, one headless Chromium.

Run by ``./dev e2e`` (not part of ``./dev test``). ``--storage-backend`` selects
the backends, as for the main suite. Every selected site starts at once, in its
own process, the first time a test needs one; each stops at the end.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

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
    for site in sites.values():
        site.terminate()
    for site in sites.values():
        site.stop()


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
def browser(request: pytest.FixtureRequest, site_processes: dict[str, SiteProcess]) -> Iterator[Any]:
    """Headless Chromium trusting the CAs the sites need (the Dropbox fake's), and nothing else extra."""
    executable = find_chromium()
    if executable is None:
        _missing(f"no Chromium found: {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    ca_files = []
    for process in site_processes.values():
        try:
            ca_file = process.ready().get("ca_file")
        except Exception:  # the site's own tests report why it did not start
            continue
        if ca_file:
            ca_files.append(ca_file)
    try:
        home = trusting_home(Path(tempfile.mkdtemp(prefix="storages-e2e-home-")), ca_files)
    except FileNotFoundError as exc:
        _missing(str(exc))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGS,
                                             env={**os.environ, "HOME": str(home)})
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context and page; ``page.failures`` lists responses that failed (>= 400)."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    failures: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failures.append(f"{r.status} {r.url}"))
    page.on("requestfailed", lambda r: failures.append(f"{r.failure} {r.url}"))
    page.failures = failures
    yield page
    context.close()
