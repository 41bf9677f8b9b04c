"""How ``Signal``s land in the raw tables.

Both ways back from an ESP (the pull-back of suppression lists and the
inbound hook receiver) produce ``Signal``s; ``land`` writes them to
``raw.consents`` (unsubscribes, hard bounces and spam complaints: the contact
policy suppresses the person everywhere at the next build) and to
``raw.email_events`` (every signal, opens and clicks included), idempotently:
ids are derived from the signal, and a row whose id is already there is
skipped, so pulling or receiving the same thing twice adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from activations.contract.signals import Signal
from activations.warehouse.db import Db
from activations.warehouse.raw_schema import RAW_SCHEMA, create_raw_schema_sql


@dataclass
class Landed:
    consents: int = 0
    email_events: int = 0
    seen: int = 0

    def __add__(self, other: Landed) -> Landed:
        return Landed(
            self.consents + other.consents,
            self.email_events + other.email_events,
            self.seen + other.seen,
        )


def _id(prefix: str, *parts: object) -> str:
    digest = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode())
    return f"{prefix}_{digest.hexdigest()[:24]}"


def consent_id(signal: Signal) -> str:
    return _id(
        "esp", signal.provider, signal.email, signal.consent_status, signal.occurred_at.isoformat()
    )


def email_event_id(signal: Signal) -> str:
    ident = signal.provider_event_id or f"{signal.occurred_at.isoformat()}|{signal.url or ''}"
    return _id("esp", signal.provider, signal.email, signal.kind, ident)


def _normal(email: str) -> str:
    return email.strip().lower()


def land(conn: Any, signals: Iterable[Signal], *, schema: str = RAW_SCHEMA) -> Landed:
    """Append new signals to ``raw.consents`` and ``raw.email_events``; rows already
    landed (same id) are skipped. Creates the raw tables when missing. ``conn`` is a
    DuckDB or PostgreSQL (psycopg) connection."""
    signals = [s for s in signals if s.email and s.email.strip()]
    report = Landed(seen=len(signals))
    if not signals:
        return report
    db = Db.wrap(conn)
    for statement in create_raw_schema_sql(schema):
        db.execute(statement)
    customers = _customer_ids(db, schema, {_normal(s.email) for s in signals})
    consent_rows = {}
    event_rows = {}
    for s in signals:
        email = _normal(s.email)
        customer = customers.get(email)
        status = s.consent_status
        if status is not None:
            consent_rows[consent_id(s)] = (
                consent_id(s),
                customer,
                email,
                "email",
                status,
                "esp",
                None,
                s.occurred_at,
            )
        event_rows[email_event_id(s)] = (
            email_event_id(s),
            s.message_id,
            customer,
            email,
            s.campaign_id,
            None,
            s.kind,
            (s.bounce_type or "hard") if s.kind == "bounced" else None,
            s.url if s.kind == "clicked" else None,
            s.provider,
            s.occurred_at,
        )
    with db.transaction():
        report.consents = _insert_new(
            db, f"{schema}.consents", "consent_id", list(consent_rows.values())
        )
        report.email_events = _insert_new(
            db, f"{schema}.email_events", "event_id", list(event_rows.values())
        )
    return report


def _insert_new(db: Db, table: str, key: str, rows: list[tuple]) -> int:
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    placeholders = ",".join("?" for _ in ids)
    existing = {
        r[0] for r in db.query(f"select {key} from {table} where {key} in ({placeholders})", ids)
    }
    new = [r for r in rows if r[0] not in existing]
    if new:
        marks = ",".join("?" for _ in new[0])
        db.executemany(f"insert into {table} values ({marks})", new)
    return len(new)


def _customer_ids(db: Db, schema: str, emails: set[str]) -> dict[str, str]:
    """Normalised email -> customer_id for people the shop knows (else the row keeps
    only the email, as for a pop-up sign-up before an account)."""
    if not emails:
        return {}
    listed = sorted(emails)
    placeholders = ",".join("?" for _ in listed)
    rows = db.query(
        f"select lower(trim(email)), min(customer_id) from {schema}.customers "
        f"where lower(trim(email)) in ({placeholders}) group by 1",
        listed,
    )
    return {email: customer for email, customer in rows if customer}

