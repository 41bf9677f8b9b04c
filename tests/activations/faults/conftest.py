"""The fault suite prints its totals at the end of the test session."""

from __future__ import annotations

from typing import Any

from tests.activations.faults.harness import SESSION


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SESSION.scenarios:
        return
    terminalreporter.section("fault suite")
    for destination, records in SESSION.per_destination.items():
        terminalreporter.write_line(f"{destination}: {len(records)} records")
    terminalreporter.write_line(SESSION.line())
    for result in SESSION.results:
        terminalreporter.write_line(result)
    for failed in SESSION.failed:
        terminalreporter.write_line(f"FAILED {failed}")
