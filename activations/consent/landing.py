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
from collections.abc import Iterable, Sequence
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
    return land_many(conn, [list(signals)], schema=schema)[0]


def land_many(
    conn: Any, deliveries: Sequence[Iterable[Signal]], *, schema: str = RAW_SCHEMA
) -> list[Landed]:
    """``land`` for several deliveries at once, in one transaction (the receiver's
    burst path): one report per delivery, a row new to the warehouse counted for the
    first delivery that carries it."""
    batches = [[s for s in signals if s.email and s.email.strip()] for signals in deliveries]
    reports = [Landed(seen=len(signals)) for signals in batches]
    if not any(batches):
        return reports
    db = Db.wrap(conn)
    for statement in create_raw_schema_sql(schema):
        db.execute(statement)
    customers = _customer_ids(db, schema, {_normal(s.email) for b in batches for s in b})
    consent_rows: dict[str, tuple] = {}
    event_rows: dict[str, tuple] = {}
    consent_owner: dict[str, int] = {}
    event_owner: dict[str, int] = {}
    for index, signals in enumerate(batches):
        for s in signals:
            email = _normal(s.email)
            customer = customers.get(email)
            if s.consent_status is not None:
                key = consent_id(s)
                consent_owner.setdefault(key, index)
                consent_rows[key] = (
                    key, customer, email, "email", s.consent_status, "esp", None, s.occurred_at
                )
            key = email_event_id(s)
            event_owner.setdefault(key, index)
            event_rows[key] = (
                key,
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
        new_consents = _insert_new(
            db, f"{schema}.consents", "consent_id", list(consent_rows.values())
        )
        new_events = _insert_new(
            db, f"{schema}.email_events", "event_id", list(event_rows.values())
        )
    for key in new_consents:
        reports[consent_owner[key]].consents += 1
    for key in new_events:
        reports[event_owner[key]].email_events += 1
    return reports


def _insert_new(db: Db, table: str, key: str, rows: list[tuple]) -> list[str]:
    """Insert the rows whose id is not in ``table`` yet; their ids."""
    if not rows:
        return []
    ids = [r[0] for r in rows]
    placeholders = ",".join("?" for _ in ids)
    existing = {
        r[0] for r in db.query(f"select {key} from {table} where {key} in ({placeholders})", ids)
    }
    new = [r for r in rows if r[0] not in existing]
    if new:
        marks = ",".join("?" for _ in new[0])
        db.executemany(f"insert into {table} values ({marks})", new)
    return [r[0] for r in new]


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

