"""The same plan/run cycle on PostgreSQL (a database of its own on the session's
throwaway server): state, runs, changelog, rejects and the lock in schema activations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from activations.sync.engine import plan, run
from activations.warehouse.connections import connect
from tests.activations.sync.conftest import MemoryDestination, people, sink_env, webhook_spec

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url(postgres_instance) -> Iterator[str]:
    """A fresh database on the session's throwaway server (tests/conftest.py)."""
    import psycopg

    admin = f"host={postgres_instance.host} port={postgres_instance.port} user=postgres"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as con:
        con.execute("drop database if exists engine_cycle")
        con.execute("create database engine_cycle")
    yield f"postgresql://postgres@{postgres_instance.host}:{postgres_instance.port}/engine_cycle"


def load(con, rows) -> None:
    con.execute("create schema if not exists audiences")
    con.execute("drop table if exists audiences.carts")
    con.execute(
        """create table audiences.carts (person_id varchar, email varchar, entered_at timestamp,
           audience varchar, is_sendable boolean, suppression_reason varchar,
           is_control boolean, cart_value numeric(12, 2), cart_items varchar)"""
    )
    with con.cursor() as cur:
        cur.executemany(
            "insert into audiences.carts values (%s, %s, '2026-01-01', 'carts', %s, %s, false, "
            "%s, '[]')",
            [
                (
                    r["person_id"],
                    r.get("email", f" {r['person_id'].upper()}@Example.com "),
                    r.get("is_sendable", True),
                    r.get("suppression_reason"),
                    r.get("cart_value", 1),
                )
                for r in rows
            ],
        )


def test_plan_and_run_cycle_on_postgres(pg_url: str, tmp_path: Path, sink) -> None:
    con = connect(pg_url)
    rows = people(120)
    rows[4].update(is_sendable=False, suppression_reason="bounced")
    rows[7]["email"] = "broken@"
    load(con, rows)
    spec = webhook_spec(tmp_path)
    env = sink_env(sink)
    dry = run(spec, con, dry_run=True, env=env)
    assert (dry.added, dry.skipped, dry.invalid) == (118, 1, 1)
    assert con.execute(
        "select count(*) from information_schema.schemata where schema_name = 'activations'"
    ).fetchone() == (0,)
    first = run(spec, con, env=env)
    assert first.status == "succeeded" and first.confirmed == 118
    assert {r["key"] for r in sink.received()} == {r["person_id"] for r in rows} - {
        "p00004",
        "p00007",
    }

    rows[0]["cart_value"] = 99
    load(con, rows[:-3])
    p = plan(spec, con)
    assert (p.changed, p.removed, p.unchanged) == (1, 3, 114)
    second = run(spec, con, env=env)
    assert second.status == "succeeded" and second.confirmed == 4
    state = con.execute(
        "select count(*), count(distinct destination_id) from activations.sync_state"
    ).fetchone()
    assert state == (115, 115)
    actions = dict(
        con.execute(
            "select action, count(*) from activations.sync_changelog group by action"
        ).fetchall()
    )
    assert actions == {"added": 118, "changed": 1, "removed": 3, "rejected": 1}
    runs = con.execute(
        "select status, planned, confirmed from activations.sync_runs order by started_at"
    ).fetchall()
    assert runs == [("succeeded", 118, 118), ("succeeded", 4, 4)]
    assert con.execute("select count(*) from activations.sync_locks").fetchone() == (0,)
    assert con.execute(
        "select reason from activations.sync_rejects where record_key = 'p00007'"
    ).fetchone() == ("invalid email address",)
    con.close()


def test_rejects_and_crash_window_on_postgres(pg_url: str, tmp_path: Path) -> None:
    con = connect(pg_url)
    con.execute("drop schema if exists activations cascade")
    load(con, people(30))
    spec = webhook_spec(tmp_path, extra="    guards: {max_rejects_share: 1, max_attempts: 2}\n")
    dest = MemoryDestination(max_records=4)
    dest.reject = {"p00003"}
    env = {"HOOK_SECRET": "x" * 10, "HOOK_URL": "http://127.0.0.1:9"}
    for _ in range(3):
        run(spec, con, provider=dest, env=env)
    assert [k for _, k in dest.received].count("p00003") == 2
    assert con.execute(
        "select attempts from activations.sync_rejects where record_key = 'p00003'"
    ).fetchone() == (2,)
    assert set(dest.members) == {f"p{i:05d}" for i in range(30)} - {"p00003"}
    con.close()
