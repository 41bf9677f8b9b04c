"""`activations report`: row counts of raw tables, core marts and audiences."""

from __future__ import annotations

import subprocess
import sys

from activations.paths import PROJECT_ROOT
from activations.warehouse.counts import warehouse_counts


def test_counts_match_the_warehouse(built_warehouse):
    counts = {(c.schema, c.table): c for c in warehouse_counts(built_warehouse.path)}
    for table, rows in built_warehouse.raw_counts.items():
        assert counts[("raw", table)].rows == rows
    ((customers,),) = built_warehouse.query("select count(*) from core.customers")
    assert counts[("core", "customers")].rows == customers
    audiences = built_warehouse.query(
        "select table_name from information_schema.tables where table_schema = 'audiences'"
    )
    assert {t for (t,) in audiences} == {t for s, t in counts if s == "audiences"}
    for (schema, table), count in counts.items():
        if schema == "audiences" and count.sendable is not None:
            ((sendable,),) = built_warehouse.query(
                f'select count(*) from audiences."{table}" where is_sendable'
            )
            assert count.sendable == sendable


def test_report_command_prints_a_table(built_warehouse):
    result = subprocess.run(
        [sys.executable, "-m", "activations.cli", "report"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env={**built_warehouse.env, "COLUMNS": "120"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    ((orders,),) = built_warehouse.query("select count(*) from core.orders")
    assert "orders" in result.stdout
    assert f"{orders:,}" in result.stdout


def test_report_on_a_missing_file_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "activations.cli",
            "report",
            "--warehouse",
            str(tmp_path / "no.duckdb"),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr
