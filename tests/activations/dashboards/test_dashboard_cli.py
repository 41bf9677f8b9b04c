"""`activations dashboard` end to end, as a user runs it: a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

CLI = [str(Path(sys.executable).parent / "activations")]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_dashboard_command_writes_the_page_and_prints_its_path(built_warehouse, tmp_path):
    out = tmp_path / "nested" / "dash.html"
    done = run("dashboard", "--out", str(out), "--warehouse", str(built_warehouse.path))
    assert done.returncode == 0, done.stderr
    assert str(out.resolve()) in done.stdout
    assert "<svg" in out.read_text(encoding="utf-8")


def test_missing_warehouse_is_one_clear_message(tmp_path):
    missing = tmp_path / "nope.duckdb"
    done = run("dashboard", "--out", str(tmp_path / "d.html"), "--warehouse", str(missing))
    assert done.returncode == 2
    assert str(missing) in done.stderr and "does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_warehouse_without_marts_says_to_build_first(tmp_path):
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    done = run("dashboard", "--out", str(tmp_path / "d.html"), "--warehouse", str(empty))
    assert done.returncode == 2
    assert "metric marts" in done.stderr and "activations build" in done.stderr
    assert "Traceback" not in done.stderr
