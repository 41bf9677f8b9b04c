"""Incremental event models equal a full refresh, on DuckDB and PostgreSQL.

A small generated shop is built; one more hour is appended to ``raw`` (new
calls and email events, late receipts two days old, a loader that landed
behind the cursor inside the lookback, browsers identified only now); an
incremental run follows; its rows of every incremental event model must be
exactly the rows of a ``--full-refresh`` run over the same raw data. That
covers the summaries of the identified events too (carts, cart lines,
product views, sessions), which take again only the carts and browsers the
hour touched: the hour must change rows of each (the event models gain rows;
a summary may only update its rows: a cart's later activity, a browser's
views counted again, sessions joined by a late call).
(The audience membership log is incremental too, but it is history that a
full refresh leaves alone: tests/dbt/test_membership_log.py.)
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from activations.errors import UserError
from activations.generator.append import append_hour
from activations.warehouse import dbt
from tests.conftest import AS_OF, copy_raw_to_postgres, dbt_vars, fill_raw

# model -> schema; every incremental model built from events or email events
INCREMENTAL = {
    "stg_app__events": "staging",
    "int_identities_stitched": "intermediate",
    "int_events_identified": "intermediate",
    "stg_esp__email_events": "staging",
    "int_carts_summarized": "intermediate",
    "int_cart_lines_summarized": "intermediate",
    "int_product_views_summarized": "intermediate",
    "int_sessions_sessionized": "intermediate",
}
# the event models only gain rows; the summaries update theirs (and may add some)
APPEND_ONLY = {"stg_app__events", "int_events_identified", "stg_esp__email_events"}
SELECT = [
    "+int_events_identified",
    "+stg_esp__email_events",
    "int_carts_summarized",
    "int_cart_lines_summarized",
    "int_product_views_summarized",
    "int_sessions_sessionized",
]
SHOP = {"customers": 300, "days": 10}


def _session_edges_sql(end) -> list[str]:
    """Late calls where sessions are decided (beside append_hour's): a copy of a
    call inside a session, and a call bridging two sessions 30 to 55 minutes
    apart (25 minutes after the first: the two become one), both received in
    the new hour with their old times."""
    received = f"cast('{(end + timedelta(minutes=40)):%Y-%m-%d %H:%M:%S}' as timestamp)"
    cols = 'anonymous_id, user_id, event, "timestamp", received_at, properties, context'
    gaps = (
        'select message_id, anonymous_id, user_id, event, "timestamp", properties, context, '
        '"timestamp" - lag("timestamp") over '
        '(partition by anonymous_id order by "timestamp", message_id) as gap '
        "from raw.events where anonymous_id is not null"
    )
    return [
        f"""insert into raw.events (message_id, {cols})
        select message_id || '-insession', anonymous_id, user_id, event, "timestamp",
               {received}, properties, context
        from ({gaps}) as s
        where gap <= interval '30 minutes' and substr(md5(message_id), 1, 1) = '0'""",
        f"""insert into raw.events (message_id, {cols})
        select message_id || '-bridge', anonymous_id, user_id, event,
               "timestamp" - gap + interval '25 minutes', {received}, properties, context
        from ({gaps}) as s
        where gap > interval '30 minutes' and gap <= interval '55 minutes'""",
    ]


def _append(con) -> None:
    append_hour(con, AS_OF)
    for statement in _session_edges_sql(AS_OF):
        con.execute(statement)


def _rows(query, model: str) -> list[tuple[Any, ...]]:
    # every column, as text: one ordering and comparison on both databases
    rows = query(f"select * from {INCREMENTAL[model]}.{model}")
    return sorted(tuple(map(str, row)) for row in rows)


def _build_and_compare(run, query, append) -> dict[str, int]:
    """First build, append an hour, incremental run, then a full refresh: compare."""
    run([], dbt_vars(AS_OF))
    before = {model: _rows(query, model) for model in INCREMENTAL}
    append()
    later = dbt_vars(AS_OF + timedelta(hours=1))
    run([], later)
    incremental = {model: _rows(query, model) for model in INCREMENTAL}
    run(["--full-refresh"], later)
    for model in INCREMENTAL:
        full = _rows(query, model)
        if model in APPEND_ONLY:
            assert len(full) > len(before[model]), f"{model}: the appended hour added nothing"
        else:
            assert full != before[model], f"{model}: the appended hour changed nothing"
        assert incremental[model] == full, f"{model}: incremental rows differ from a full refresh"
    return {model: len(rows) for model, rows in incremental.items()}


def _assert_late_rows_arrived(query) -> None:
    late, slow, in_session, bridge = query(
        "select sum(case when event_id like '%-late' then 1 else 0 end), "
        "sum(case when event_id like '%-slow' then 1 else 0 end), "
        "sum(case when event_id like '%-insession' then 1 else 0 end), "
        "sum(case when event_id like '%-bridge' then 1 else 0 end) from staging.stg_app__events"
    )[0]
    assert late and slow and in_session and bridge
    (restitched,) = query(
        "select count(*) from intermediate.int_events_identified "
        "where identified_by = 'stitched' and anonymous_id in "
        "(select anonymous_id from staging.stg_app__identifies "
        "where identify_id like 'ajs-restitch-%')"
    )[0]
    assert restitched > 0  # earlier anonymous calls now carry the customer
    # ... and so do the summaries built from them (rows of those browsers replaced)
    (sessions, views) = query(
        "select (select count(*) from intermediate.int_sessions_sessionized "
        "where customer_id is not null and browser_id in ({0})), "
        "(select count(*) from intermediate.int_product_views_summarized "
        "where browser_id in ({0}))".format(
            "select anonymous_id from staging.stg_app__identifies "
            "where identify_id like 'ajs-restitch-%'"
        )
    )[0]
    assert sessions > 0 and views > 0
    late_email, pulled = query(
        "select sum(case when email_event_id like '%-late' then 1 else 0 end), "
        "sum(case when email_event_id like '%-pulled' then 1 else 0 end) "
        "from staging.stg_esp__email_events"
    )[0]
    assert late_email and pulled  # pulled: a week old, beyond the lookback


@pytest.fixture(scope="module")
def small_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("incremental") / "shop.duckdb"
    fill_raw(path, **SHOP)
    return path


def test_incremental_equals_full_refresh_on_duckdb(small_shop: Path, tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "warehouse.duckdb"
    path.write_bytes(small_shop.read_bytes())

    def run(extra: list[str], vars: dict[str, str]) -> None:
        dbt.run_dbt(
            "run", select=SELECT, vars=vars, warehouse=path, extra_args=extra,
            target_path=tmp_path / "target", quiet=True,
        )  # fmt: skip

    def query(sql: str) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(path)) as con:
            return con.execute(sql).fetchall()

    def append() -> None:
        with duckdb.connect(str(path)) as con:
            _append(con)

    _build_and_compare(run, query, append)
    _assert_late_rows_arrived(query)


@pytest.mark.postgres
def test_incremental_equals_full_refresh_on_postgres(
    postgres_instance, small_shop: Path, tmp_path: Path
) -> None:
    with psycopg.connect(postgres_instance.conninfo, autocommit=True) as pg:
        pg.execute("drop database if exists incremental_test")
        pg.execute("create database incremental_test")
    conninfo = postgres_instance.conninfo.replace("dbname=warehouse", "dbname=incremental_test")
    copy_raw_to_postgres(small_shop, conninfo, limit=10**9)
    env = {**postgres_instance.env, "PGDATABASE": "incremental_test", "PATH": os.environ["PATH"]}

    def run(extra: list[str], vars: dict[str, str]) -> None:
        dbt.run_dbt(
            "run", select=SELECT, vars=vars, target="postgres", env=env, extra_args=extra,
            target_path=tmp_path / "pg_target", quiet=True,
        )  # fmt: skip

    def query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(conninfo) as con:
            return con.execute(sql).fetchall()

    def append() -> None:
        with psycopg.connect(conninfo, autocommit=True) as con:
            _append(con)

    _build_and_compare(run, query, append)
    _assert_late_rows_arrived(query)


def test_hourly_tests_check_the_last_day_and_a_full_build_all_history(
    small_shop: Path, tmp_path: Path
) -> None:
    """The data tests of the large event tables (`where: ... __recent_since__`,
    dbt_project/macros/recent_rows.sql): with the hourly vars they check the
    rows loaded in the last day only; without them, every row. A duplicate
    event id loaded a week ago fails the full build's test and not the hourly
    one; one loaded within the day fails both."""
    import duckdb

    path = tmp_path / "warehouse.duckdb"
    path.write_bytes(small_shop.read_bytes())
    common = {"warehouse": path, "target_path": tmp_path / "target", "quiet": True}
    dbt.run_dbt("run", select=["stg_app__events"], vars=dbt_vars(AS_OF), **common)

    def unique_test_fails(vars: dict[str, Any]) -> bool:
        try:
            dbt.run_dbt("test", select=["stg_app__events,test_name:unique"], vars=vars, **common)
        except UserError as exc:
            assert "unique_stg_app__events_event_id" in str(exc)
            return True
        return False

    hourly = {**dbt.HOURLY_VARS, **dbt_vars(AS_OF)}
    assert not unique_test_fails(dbt_vars(AS_OF)) and not unique_test_fails(hourly)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "insert into staging.stg_app__events by name select * replace "
            "(received_at - interval 7 day as received_at) from staging.stg_app__events "
            "where received_at < ? - interval 8 day limit 1",
            [AS_OF],
        )
    assert unique_test_fails(dbt_vars(AS_OF))  # all history: the week-old duplicate
    assert not unique_test_fails(hourly)  # the last day only
    with duckdb.connect(str(path)) as con:
        for _ in range(2):  # one call loaded twice within the day
            con.execute(
                "insert into staging.stg_app__events by name select * replace "
                "(cast(? as timestamp) - interval 1 hour as received_at) "
                "from staging.stg_app__events where event_id = "
                "(select min(event_id) from staging.stg_app__events)",
                [AS_OF],
            )
    assert unique_test_fails(hourly)
