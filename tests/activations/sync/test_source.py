"""Where a sync reads its audience (activations.sync.source): the warehouse by
default; Spark only when ACTIVATIONS_AUDIENCES_FROM says so, with the state in
DuckDB (the copy itself is tested on a real Spark in tests/dbt/test_spark_parity.py)."""

from __future__ import annotations

import duckdb
import pytest

from activations.errors import UserError
from activations.sync import source
from activations.sync.specs import SyncSpec

SPEC = SyncSpec(
    name="carts_hook",
    audience="carts",
    provider="webhook",
    destination="/hooks/carts",
    credentials={"api_key_env": "HOOK_SECRET", "base_url_env": "HOOK_URL"},
)


def test_default_reads_the_warehouse_and_copies_nothing(monkeypatch) -> None:
    monkeypatch.delenv(source.ENV, raising=False)
    assert source.audiences_from() == "warehouse" and not source.from_spark()
    con = duckdb.connect()
    assert source.prepare(SPEC, con) == {}
    assert con.execute("select count(*) from information_schema.tables").fetchone() == (0,)


def test_an_unknown_source_is_one_clear_error(monkeypatch) -> None:
    monkeypatch.setenv(source.ENV, "hive")
    with pytest.raises(UserError, match="ACTIVATIONS_AUDIENCES_FROM='hive'"):
        source.audiences_from()


def test_spark_keeps_its_state_in_duckdb_not_postgres(monkeypatch) -> None:
    class FakePostgres:  # what Db takes for a psycopg connection
        autocommit = False

    monkeypatch.setenv(source.ENV, "spark")
    with pytest.raises(UserError, match="DuckDB file"):
        source.prepare(SPEC, FakePostgres())
