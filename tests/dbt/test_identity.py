"""Identity stitching on a tiny hand-made shop, built by the real dbt."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from activations.warehouse import dbt
from activations.warehouse.raw_schema import create_raw_schema_sql

T = datetime(2026, 6, 1, 10, 0, 0)


def _at(hours: int) -> datetime:
    return T.replace(hour=T.hour + hours)


@pytest.fixture(scope="module")
def stitched(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("identity")
    path = root / "identity.duckdb"
    con = duckdb.connect(str(path))
    for statement in create_raw_schema_sql():
        con.execute(statement)
    con.executemany(
        "insert into raw.customers (customer_id, email, created_at) values (?, ?, ?)",
        [("c1", "ann@x.com", T), ("c2", "bob@x.com", T)],
    )
    # a1: anonymous browsing, then identified as c1, later (shared laptop) as c2
    # a2: never identified by an identify call, but one track call carries user_id c2
    # a3: never identified
    con.executemany(
        "insert into raw.identifies (message_id, user_id, anonymous_id, traits, timestamp)"
        " values (?, ?, ?, ?, ?)",
        [
            ("i1", "c1", "a1", '{"email": " Ann@X.com"}', _at(1)),
            ("i2", "c2", "a1", '{"email": "bob@x.com"}', _at(5)),
        ],
    )
    events = [
        ("e1", "a1", None, "Product Viewed", _at(0)),
        ("e2", "a1", None, "Product Added", _at(2)),
        ("e3", "a2", None, "Product Viewed", _at(0)),
        ("e4", "a2", "c2", "Order Completed", _at(3)),
        ("e5", "a3", None, "Product Viewed", _at(0)),
    ]
    con.executemany(
        "insert into raw.events (message_id, anonymous_id, user_id, event, timestamp,"
        " received_at, properties, context) values (?, ?, ?, ?, ?, ?, '{}', '{}')",
        [(*e, e[-1]) for e in events],
    )
    con.close()
    dbt.build(
        warehouse=path,
        select=["+int_events_identified", "stg_shop__customers"],
        target_path=root / "target",
        extra_args=["--indirect-selection", "buildable"],
        quiet=True,
    )
    con = duckdb.connect(str(path))
    yield con
    con.close()


def test_first_identification_wins(stitched):
    rows = stitched.execute(
        "select anonymous_id, customer_id, identified_by, is_shared_device"
        " from intermediate.int_identities_stitched order by anonymous_id"
    ).fetchall()
    assert rows == [("a1", "c1", "identify", True), ("a2", "c2", "event", False)]


def test_every_event_gets_its_customer(stitched):
    rows = dict(
        stitched.execute(
            "select event_id, customer_id from intermediate.int_events_identified"
        ).fetchall()
    )
    # earlier anonymous events of a browser are attributed back to its customer
    assert rows == {"e1": "c1", "e2": "c1", "e3": "c2", "e4": "c2", "e5": None}


def test_identify_email_is_normalized(stitched):
    emails = stitched.execute(
        "select email from staging.stg_app__identifies order by identify_id"
    ).fetchall()
    assert emails == [("ann@x.com",), ("bob@x.com",)]
