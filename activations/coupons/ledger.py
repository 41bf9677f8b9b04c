"""The coupon ledger in the warehouse (schema ``activations``, beside the sync
state), append-only:

- ``coupon_pool``: codes imported for a campaign (``pool.py``), unique code;
- ``coupon_assignments``: one row per person and campaign, the code they got,
  its value and expiry, when and by which sync run; unique (campaign,
  person_id) and unique code, so no person gets two codes in a campaign and no
  code goes to two people (nor to two campaigns).

Portable DDL (DuckDB and PostgreSQL). Readers tolerate missing tables: a dry
run or a plan must not create them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from activations.warehouse.db import Db

SCHEMA = "activations"
POOL = f"{SCHEMA}.coupon_pool"
ASSIGNMENTS = f"{SCHEMA}.coupon_assignments"

DDL = [
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {POOL} (
        code varchar not null primary key,
        campaign varchar not null,
        value decimal(12, 2),
        expires_at timestamp,
        source_file varchar,
        line_number integer,
        imported_at timestamp not null
    )""",
    f"""create table if not exists {ASSIGNMENTS} (
        campaign varchar not null,
        person_id varchar not null,
        code varchar not null,
        source varchar not null,
        value decimal(12, 2),
        value_type varchar,
        expires_at timestamp,
        assigned_at timestamp not null,
        sync_name varchar,
        audience varchar,
        run_id varchar,
        primary key (campaign, person_id),
        unique (code)
    )""",
]

#: the assignments relation when the table does not exist yet (same columns)
EMPTY_ASSIGNMENTS = (
    "(select cast(null as varchar) as campaign, cast(null as varchar) as person_id, "
    "cast(null as varchar) as code, cast(null as decimal(12, 2)) as value, "
    "cast(null as varchar) as value_type, cast(null as timestamp) as expires_at where 1 = 0)"
)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_ledger(db: Db) -> None:
    with db.transaction():
        for statement in DDL:
            db.execute(statement)


def has_assignments(db: Db) -> bool:
    return db.table_exists(SCHEMA, "coupon_assignments")


def has_pool(db: Db) -> bool:
    return db.table_exists(SCHEMA, "coupon_pool")


def assignments_relation(db: Db) -> str:
    """SQL relation of the assignments (empty when the ledger does not exist)."""
    return ASSIGNMENTS if has_assignments(db) else EMPTY_ASSIGNMENTS


def pool_available(db: Db, campaign: str, at: datetime | None = None) -> int:
    """Codes of ``campaign``'s pool not assigned to anyone and not expired at ``at``."""
    if not has_pool(db):
        return 0
    taken = (
        f"and not exists (select 1 from {ASSIGNMENTS} as a where a.code = p.code)"
        if has_assignments(db)
        else ""
    )
    return int(
        db.scalar(
            f"select count(*) from {POOL} as p where p.campaign = ? "
            f"and (p.expires_at is null or p.expires_at > ?) {taken}",
            [campaign, at or now()],
        )
        or 0
    )


def status(db: Db, campaign: str | None = None) -> list[dict[str, Any]]:
    """Per campaign: codes in the pool, assigned, still available, expired unassigned."""
    out: dict[str, dict[str, Any]] = {}

    def row(name: str) -> dict[str, Any]:
        return out.setdefault(
            name,
            {
                "campaign": name,
                "pool": 0,
                "assigned": 0,
                "available": 0,
                "expired": 0,
                "generated": 0,
                "last_assigned_at": None,
            },
        )

    at = now()
    if has_pool(db):
        taken = (
            f"exists (select 1 from {ASSIGNMENTS} as a where a.code = p.code)"
            if has_assignments(db)
            else "false"
        )
        for name, pool, available, expired in db.query(
            f"""select p.campaign, count(*),
                       sum(case when not {taken} and (p.expires_at is null or p.expires_at > ?)
                           then 1 else 0 end),
                       sum(case when not {taken} and p.expires_at <= ? then 1 else 0 end)
                from {POOL} as p group by p.campaign""",
            [at, at],
        ):
            r = row(name)
            r.update(pool=int(pool), available=int(available or 0), expired=int(expired or 0))
    if has_assignments(db):
        for name, assigned, generated, last in db.query(
            f"""select campaign, count(*),
                       sum(case when source = 'generated' then 1 else 0 end), max(assigned_at)
                from {ASSIGNMENTS} group by campaign"""
        ):
            row(name).update(
                assigned=int(assigned), generated=int(generated or 0), last_assigned_at=last
            )
    rows = sorted(out.values(), key=lambda r: r["campaign"])
    return [r for r in rows if campaign is None or r["campaign"] == campaign]


def samples(db: Db, campaign: str, n: int = 3) -> list[tuple[Any, ...]]:
    """A few assignments of ``campaign``, earliest first: (person_id, code,
    value, value_type, expires_at)."""
    if not has_assignments(db):
        return []
    return db.query(
        f"select person_id, code, value, value_type, expires_at from {ASSIGNMENTS} "
        f"where campaign = ? order by assigned_at, person_id limit {int(n)}",
        [campaign],
    )
