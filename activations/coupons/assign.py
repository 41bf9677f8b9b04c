"""Giving codes to the people of a sync's audience who need one.

The sync's audience snapshot (``activations.sync.audience.snapshot``) carries,
when the declaration has ``coupons:``, three columns built from
``snapshot_columns``: ``coupon_person`` (the person_id), ``coupon_input`` (the
value from ``value_column``) and ``coupon_missing`` (the person qualifies and
has no code in the campaign yet). ``needed`` counts the sendable ones,
``assign`` writes their codes to the ledger. The engine calls ``assign`` only
in a real run, after the guards passed (``activations.sync.engine``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from activations.coupons.codes import generate
from activations.coupons.ledger import (
    ASSIGNMENTS,
    POOL,
    assignments_relation,
    ensure_ledger,
    has_pool,
    now,
    pool_available,
)
from activations.coupons.spec import COUPON_COLUMNS, CouponSpec
from activations.errors import UserError
from activations.warehouse.db import Db

#: rounds of fresh codes for people whose code collided with one already used
MAX_ROUNDS = 8


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class SnapshotParts:
    """SQL pieces the audience snapshot adds for a sync with ``coupons:``
    (audience alias ``a``, ledger alias ``cpn``)."""

    join: str
    eligible: str
    extra: str  # ", <expr> as coupon_person, ..." for the inner select

    def column(self, mapped: str) -> str:
        """The expression of a mapped ``coupon.<column>``: only for people who
        qualify now (a code stays assigned; it is not sent while they do not)."""
        return f"case when {self.eligible} then cpn.{COUPON_COLUMNS[mapped]} end"


def snapshot_parts(coupons: CouponSpec, db: Db) -> SnapshotParts:
    campaign = coupons.campaign.replace("'", "''")
    eligible = "a.person_id is not null"
    value = "cast(null as decimal(12, 2))"
    if coupons.value_column:
        col = f"a.{_quote(coupons.value_column)}"
        eligible += f" and {col} is not null and {col} > 0"
        value = f"cast({col} as decimal(12, 2))"
    join = (
        f"left join {assignments_relation(db)} as cpn "
        f"on cpn.campaign = '{campaign}' and cpn.person_id = {db.text('a.person_id')}"
    )
    extra = (
        f", {db.text('a.person_id')} as coupon_person, {value} as coupon_input, "
        f"({eligible} and cpn.code is null) as coupon_missing"
    )
    return SnapshotParts(join=join, eligible=eligible, extra=extra)


SNAPSHOT_COLUMNS = ("coupon_person", "coupon_input", "coupon_missing")


def _needed_sql(snapshot: str, db: Db) -> str:
    """People of the snapshot who may be sent, qualify and have no code yet
    (checked against the ledger now, not as the snapshot saw it)."""
    taken = (
        f"and not exists (select 1 from {ASSIGNMENTS} as x "
        "where x.campaign = ? and x.person_id = s.coupon_person)"
        if db.table_exists("activations", "coupon_assignments")
        else "and cast(? as varchar) is not null"
    )
    return (
        f"select s.coupon_person, max(s.coupon_input) as coupon_input from {snapshot} as s "
        f"where s.reason is null and s.coupon_missing {taken} group by s.coupon_person"
    )


def needed(db: Db, coupons: CouponSpec, snapshot: str) -> int:
    """How many people of the plan's snapshot need a code of the campaign."""
    return int(
        db.scalar(f"select count(*) from ({_needed_sql(snapshot, db)}) as n", [coupons.campaign])
        or 0
    )


def available(db: Db, coupons: CouponSpec) -> int | None:
    """Unassigned, unexpired codes of a pool campaign; ``None`` when generated."""
    return pool_available(db, coupons.campaign) if coupons.source == "pool" else None


@dataclass(frozen=True)
class Assigned:
    assigned: int  # codes written to the ledger by this call
    missing: int  # people who still need a code (the pool could not cover them)


def assign(
    db: Db,
    coupons: CouponSpec,
    snapshot: str,
    *,
    sync_name: str,
    audience: str,
    run_id: str,
) -> Assigned:
    """Give each person of ``snapshot`` who needs one a code of the campaign,
    in the ledger. A pool that cannot cover everyone gives nobody a code
    (``missing`` says how many are short)."""
    ensure_ledger(db)
    at = now()
    expires = at + timedelta(days=coupons.expiry_days)
    meta = [at, sync_name, audience, run_id]
    total = 0
    for _ in range(MAX_ROUNDS):
        need = db.query(_needed_sql(snapshot, db), [coupons.campaign])
        if not need:
            return Assigned(total, 0)
        if coupons.source == "pool":
            if pool_available(db, coupons.campaign, at) < len(need):
                return Assigned(total, len(need))
            total += _from_pool(db, coupons, snapshot, at, expires, meta)
        else:
            total += _generated(db, coupons, need, expires, meta)
    missing = len(db.query(_needed_sql(snapshot, db), [coupons.campaign]))
    if missing and coupons.source == "generated":
        raise UserError(
            f"campaign {coupons.campaign!r}: no unused code found for {missing} people after "
            f"{MAX_ROUNDS} draws of {coupons.length} characters",
            hint="lengthen the codes (coupons.length) or change the prefix",
        )
    return Assigned(total, missing)


def _count(db: Db, campaign: str) -> int:
    return int(db.scalar(f"select count(*) from {ASSIGNMENTS} where campaign = ?", [campaign]))


def _from_pool(
    db: Db,
    coupons: CouponSpec,
    snapshot: str,
    at: datetime,
    expires: datetime,
    meta: list,
) -> int:
    """One set-based insert: the k-th person (by id) gets the k-th free code (in
    the order imported)."""
    before = _count(db, coupons.campaign)
    with db.transaction():
        db.execute(
            f"""insert into {ASSIGNMENTS} (campaign, person_id, code, source, value, value_type,
                    expires_at, assigned_at, sync_name, audience, run_id)
            select ?, n.coupon_person, c.code, 'pool',
                   coalesce(c.value, n.coupon_input, cast(? as decimal(12, 2))), ?,
                   coalesce(c.expires_at, cast(? as timestamp)), ?, ?, ?, ?
            from (
                select coupon_person, coupon_input,
                       row_number() over (order by coupon_person) as k
                from ({_needed_sql(snapshot, db)}) as need
            ) as n
            inner join (
                select p.code, p.value, p.expires_at,
                       row_number() over (
                           order by p.imported_at, p.line_number, p.code
                       ) as k
                from {POOL} as p
                where p.campaign = ? and (p.expires_at is null or p.expires_at > ?)
                  and not exists (select 1 from {ASSIGNMENTS} as x where x.code = p.code)
            ) as c on c.k = n.k
            on conflict do nothing""",
            [
                coupons.campaign,
                coupons.value,
                coupons.value_type,
                expires,
                *meta,
                coupons.campaign,
                coupons.campaign,
                at,
            ],
        )
    return _count(db, coupons.campaign) - before


def _generated(
    db: Db,
    coupons: CouponSpec,
    need: list[tuple],
    expires: datetime,
    meta: list,
) -> int:
    """Fresh random codes for ``need``; a code already used anywhere (the
    ledger, any pool, the shop's own coupons) is left out, its person waits
    for the next round."""
    codes = generate(
        len(need), prefix=coupons.prefix, length=coupons.length, alphabet=coupons.alphabet
    )
    rows = [
        (person, code, _value(value, coupons.value))
        for (person, value), code in zip(need, codes, strict=True)
    ]
    scratch = f"_act_cpn_{uuid.uuid4().hex[:10]}"
    db.execute(
        f"create temp table {scratch} (person_id varchar, code varchar, value decimal(12, 2))"
    )
    try:
        db.insert_rows(
            scratch,
            ["person_id", "code", "value"],
            rows,
            types=["varchar", "varchar", "decimal(12, 2)"],
        )
        used = [f"exists (select 1 from {ASSIGNMENTS} as x where x.code = t.code)"]
        if has_pool(db):
            used.append(f"exists (select 1 from {POOL} as p where p.code = t.code)")
        if db.table_exists("raw", "coupons"):
            used.append(
                "exists (select 1 from raw.coupons as r where upper(trim(r.coupon_code)) = t.code)"
            )
        before = _count(db, coupons.campaign)
        with db.transaction():
            db.execute(
                f"""insert into {ASSIGNMENTS} (campaign, person_id, code, source, value,
                        value_type, expires_at, assigned_at, sync_name, audience, run_id)
                select ?, t.person_id, t.code, 'generated', t.value, ?, ?, ?, ?, ?, ?
                from {scratch} as t
                where not ({" or ".join(used)})
                on conflict do nothing""",
                [coupons.campaign, coupons.value_type, expires, *meta],
            )
        return _count(db, coupons.campaign) - before
    finally:
        db.execute(f"drop table if exists {scratch}")


def _value(from_column: Decimal | None, fixed: Decimal | None) -> Decimal | None:
    return from_column if from_column is not None else fixed
