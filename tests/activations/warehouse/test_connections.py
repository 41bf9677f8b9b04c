"""Every DuckDB connection of the product caps DuckDB's memory (spilling past
it), as the dbt profile does: one variable, DUCKDB_MEMORY_LIMIT, default 3GB."""

from __future__ import annotations

from pathlib import Path

import pytest

from activations.errors import UserError
from activations.warehouse.connections import MEMORY_LIMIT_ENV, connect_duckdb


def _limit(path: Path) -> str:
    con = connect_duckdb(path)
    try:
        return str(con.execute("select current_setting('memory_limit')").fetchone()[0])
    finally:
        con.close()


def test_default_cap_is_3gb_and_the_variable_sets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    assert _limit(tmp_path / "a.duckdb") == "2.7 GiB"  # 3 GB, shown in GiB
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "512MB")
    assert _limit(tmp_path / "b.duckdb") == "488.2 MiB"


def test_a_bad_cap_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "lots")
    with pytest.raises(UserError, match="DUCKDB_MEMORY_LIMIT='lots' is not a memory size"):
        connect_duckdb(tmp_path / "c.duckdb")
