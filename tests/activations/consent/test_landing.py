"""Landing is idempotent and portable: the same signals twice add nothing, on
DuckDB and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from consent_helpers import raw_warehouse

from activations.consent.landing import land
from activations.contract.signals import Signal, parse_time
from activations.warehouse.raw_schema import create_raw_schema_sql

WHEN = dt.datetime(2026, 6, 1, 8, 30)
SIGNALS = [
    Signal("sendgrid", " Ann@Example.com ", "unsubscribed", WHEN, provider_event_id="e1"),
    Signal(
        "sendgrid", "bo@example.com", "bounced", WHEN, bounce_type="hard", provider_event_id="e2"
    ),
    Signal(
        "sendgrid", "cy@example.com", "bounced", WHEN, bounce_type="soft", provider_event_id="e3"
    ),
    Signal(
        "sendgrid", "cy@example.com", "clicked", WHEN, url="https://shop/x", provider_event_id="e4"
    ),
    Signal("sendgrid", "dee@example.com", "spam", WHEN, provider_event_id="e5"),
]
EXPECTED_CONSENTS = [
    ("ann@example.com", "unsubscribed", "c_1"),
    ("bo@example.com", "bounced", None),
    ("dee@example.com", "spam_complaint", None),
]


def test_times_from_every_esp_format() -> None:
    assert parse_time(1763900000) == dt.datetime(2025, 11, 23, 12, 13, 20)
    assert parse_time("1763900000000") == dt.datetime(2025, 11, 23, 12, 13, 20)
    assert parse_time("2026-11-23T11:00:00+01:00") == dt.datetime(2026, 11, 23, 10, 0, 0)
    assert parse_time("2026-11-23 11:00:00") == dt.datetime(2026, 11, 23, 11, 0, 0)
    assert parse_time("not a time") is None and parse_time(None) is None


def _check(rows_consents, rows_events) -> None:
    assert sorted(rows_consents, key=lambda r: r[0]) == EXPECTED_CONSENTS
    kinds = sorted((e, k, b, u) for e, k, b, u in rows_events)
    assert kinds == [
        ("ann@example.com", "unsubscribed", None, None),
        ("bo@example.com", "bounced", "hard", None),
        ("cy@example.com", "bounced", "soft", None),  # recorded, changes no consent
        ("cy@example.com", "clicked", None, "https://shop/x"),
        ("dee@example.com", "spam", None, None),
    ]


def test_landing_twice_adds_nothing_on_duckdb(tmp_path: Path) -> None:
    conn = raw_warehouse(tmp_path / "w.duckdb")
    conn.execute("insert into raw.customers (customer_id, email) values ('c_1', 'ANN@example.com')")
    first = land(conn, SIGNALS)
    again = land(conn, SIGNALS)
    assert (first.consents, first.email_events) == (3, 5)
    assert (again.consents, again.email_events) == (0, 0)
    _check(
        conn.execute("select email, status, customer_id from raw.consents").fetchall(),
        conn.execute("select email, event_type, bounce_type, url from raw.email_events").fetchall(),
    )
    assert conn.execute("select distinct source, channel from raw.consents").fetchall() == [
        ("esp", "email")
    ]
    conn.close()


@pytest.mark.postgres
def test_landing_twice_adds_nothing_on_postgresql(postgres_server) -> None:
    import psycopg

    schema = "consent_landing_test"  # apart from the shared raw schema
    with psycopg.connect(postgres_server.conninfo, autocommit=True) as conn:
        conn.execute(f"drop schema if exists {schema} cascade")
        for statement in create_raw_schema_sql(schema):
            conn.execute(statement)
        conn.execute(
            f"insert into {schema}.customers (customer_id, email) values ('c_1', 'ann@example.com')"
        )
        first = land(conn, SIGNALS, schema=schema)
        again = land(conn, SIGNALS, schema=schema)
        assert (first.consents, first.email_events, again.consents, again.email_events) == (
            3,
            5,
            0,
            0,
        )
        _check(
            conn.execute(f"select email, status, customer_id from {schema}.consents").fetchall(),
            conn.execute(
                f"select email, event_type, bounce_type, url from {schema}.email_events"
            ).fetchall(),
        )
        conn.execute(f"drop schema {schema} cascade")
