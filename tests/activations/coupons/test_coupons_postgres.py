"""The coupon ledger on PostgreSQL (a database of its own on the session's
throwaway server): pool import, generated and pool codes given by sync runs,
stable across runs, a dry run writing nothing, a dry pool stopping the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from activations.coupons.pool import import_pool
from activations.sync.engine import run
from activations.warehouse.connections import connect
from activations.warehouse.db import Db
from tests.activations.coupons.conftest import CODE, ENV, FieldsDestination, coupon_spec
from tests.activations.sync.conftest import people
from tests.activations.sync.test_engine_postgres import load

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url(postgres_instance) -> Iterator[str]:
    import psycopg

    admin = f"host={postgres_instance.host} port={postgres_instance.port} user=postgres"
    with psycopg.connect(f"{admin} dbname=postgres", autocommit=True) as con:
        con.execute("drop database if exists coupon_ledger")
        con.execute("create database coupon_ledger")
    yield f"postgresql://postgres@{postgres_instance.host}:{postgres_instance.port}/coupon_ledger"


def codes(con, campaign: str) -> dict[str, str]:
    return dict(
        con.execute(
            "select person_id, code from activations.coupon_assignments where campaign = %s",
            [campaign],
        ).fetchall()
    )


def test_coupon_codes_on_postgres(pg_url: str, tmp_path: Path) -> None:
    import re

    con = connect(pg_url)
    rows = people(30, start=1)
    rows[2].update(is_sendable=False, suppression_reason="bounced")
    load(con, rows)  # cart_value 1 for everyone
    generated = coupon_spec(tmp_path, name="gen_hook", file="gen.yml")

    dry = run(generated, con, dry_run=True, env=ENV)
    assert dry.plan.coupons_needed == 29
    assert con.execute(
        "select count(*) from information_schema.tables where table_schema = 'activations'"
    ).fetchone() == (0,)

    dest = FieldsDestination()
    first = run(generated, con, provider=dest, env=ENV)
    assert first.status == "succeeded" and first.coupons_assigned == 29
    given = codes(con, "cart-24h")
    assert len(set(given.values())) == 29 and all(re.fullmatch(CODE, c) for c in given.values())
    assert {k: f["code"] for k, f in dest.fields.items()} == given
    load(con, list(reversed(rows)))  # rebuilt
    again = run(generated, con, provider=dest, env=ENV)
    assert (again.sent, again.coupons_assigned) == (0, 0) and codes(con, "cart-24h") == given

    pooled = coupon_spec(tmp_path, "{campaign: pg-pool, source: pool, value: 5}",
                         name="pool_hook", file="pool.yml")  # fmt: skip
    file = tmp_path / "codes.csv"
    file.write_text("code,value\n" + "".join(f"PG-{i:03d},{i}\n" for i in range(1, 21)))
    assert import_pool(Db(con), file, "pg-pool").imported == 20
    blocked = run(pooled, con, provider=FieldsDestination(), env=ENV, force=True)
    assert blocked.status == "blocked" and "9 codes missing" in blocked.error
    assert codes(con, "pg-pool") == {}

    file.write_text("".join(f"PG-{i:03d}\n" for i in range(1, 31)))
    result = import_pool(Db(con), file, "pg-pool")
    assert (result.imported, result.already) == (10, 20)
    done = run(pooled, con, provider=FieldsDestination(), env=ENV)
    assert done.status == "succeeded" and done.coupons_assigned == 29
    assert codes(con, "pg-pool")["p00001"] == "PG-001"
    con.close()
