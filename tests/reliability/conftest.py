"""The matrix's terminal summary: what each target did in each case (``ok`` or the error)."""

from __future__ import annotations

from typing import Any

_RESULTS: dict[str, dict[str, str]] = {}


def pytest_runtest_logreport(report: Any) -> None:
    if report.when != "call" and not (report.when == "setup" and report.skipped):
        return
    for key, value in report.user_properties:
        if key == "matrix":
            target, outcomes = value
            case = report.nodeid.rsplit("-", 1)[-1].rstrip("]")
            status = "/".join(outcomes) if report.passed else ("skip" if report.skipped else "FAILED")
            _RESULTS.setdefault(target, {})[case] = status


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _RESULTS:
        return
    cases = list(dict.fromkeys(case for row in _RESULTS.values() for case in row))
    terminalreporter.section("reliability matrix")
    for target, row in _RESULTS.items():
        terminalreporter.write_line(f"{target}:")
        for case in cases:
            terminalreporter.write_line(f"    {case:15} {row.get(case, '-')}")
