"""The plan of one sync, computed in the warehouse (set-based SQL, no Python
loop over the audience): snapshot the audience (``activations.sync.audience``),
compare it with the state the destination confirmed, and keep only the records
to send in a temporary table that delivery reads in chunks.

Works on DuckDB and PostgreSQL (portable SQL; dialect bits in ``Db``).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from activations.contract.records import Record
from activations.coupons import assign as coupon_codes
from activations.sync.audience import INVALID_ADDRESS, channel_of, check_audience, snapshot
from activations.sync.guards import GuardVerdict, coupon_guard, plan_guards
from activations.sync.specs import SyncSpec
from activations.sync.state import (
    INFLIGHT,
    REJECTS,
    SCHEMA,
    STATE,
    OtherTarget,
    has_state_tables,
    other_targets,
)
from activations.warehouse.db import Db

#: what each mode sends of the records that differ from the state (mirror also removes)
SEND_ACTIONS = {
    "upsert": "('added', 'changed')",
    "mirror": "('added', 'changed')",
    "update": "('added', 'changed')",
    "create": "('added')",
    "events": "('added')",
}


@dataclass
class SyncPlan:
    """What a run of ``spec`` would do. ``table`` is the temporary table holding
    the records to send (``action`` added / changed / removed)."""

    spec: SyncSpec
    audience_rows: int = 0
    sendable: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    departed: int = 0  # events mode: confirmed earlier, no longer in the audience at all
    skipped: int = 0
    invalid: int = 0
    gave_up: int = 0  # rejected max_attempts times with the same data: not retried
    members: int = 0  # records this sync has confirmed in the destination
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    guards: list[GuardVerdict] = field(default_factory=list)
    seconds: float = 0.0
    table: str = ""
    snapshot: str = ""
    columns: list[str] = field(default_factory=list)  # destination field names, in order
    # state of this sync written for another provider or destination (ignored; a
    # real run retires it first)
    previous: list[OtherTarget] = field(default_factory=list)
    # coupons: sendable people who qualify for a code and have none yet, and the
    # unassigned codes of the campaign's pool (None: codes are generated)
    coupons_needed: int = 0
    coupons_available: int | None = None

    @property
    def to_send(self) -> int:
        return self.added + self.changed + self.removed

    @property
    def blocked(self) -> bool:
        return any(not g.passed for g in self.guards)

    def counts(self) -> dict[str, int]:
        return {
            "planned": self.to_send,
            "added": self.added,
            "changed": self.changed,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "invalid": self.invalid,
            "gave_up": self.gave_up,
        }


def plan(
    spec: SyncSpec,
    conn: Any,
    *,
    samples: int = 3,
    columns: list[str] | None = None,
    previous: list[OtherTarget] | None = None,
) -> SyncPlan:
    """Compute the plan of ``spec`` against the warehouse; creates temporary
    tables only (nothing persistent), so it is safe on a read-only connection.
    ``columns``: the audience's, from a ``check_audience`` the caller just made;
    ``previous``: the other targets of the sync's state, when the caller just
    looked (a run retires them before it plans: none are left)."""
    started = time.perf_counter()
    db = Db.wrap(conn)
    if columns is None:
        columns = check_audience(spec, db)
    result = SyncPlan(spec=spec, columns=list(spec.fields))
    suffix = uuid.uuid4().hex[:10]
    result.snapshot, result.table = f"_act_snap_{suffix}", f"_act_plan_{suffix}"
    fields, unique = snapshot(spec, db, columns, result.snapshot)
    result.previous = (
        other_targets(db, spec.name, spec.provider, spec.destination)
        if previous is None
        else list(previous)
    )
    state, members, rejects = _state_relations(spec, db, result.previous)
    _plan_table(spec, db, result, fields, state, members, rejects)
    _count(spec, db, result, state, members, unique=unique)
    result.guards = plan_guards(spec.mode, spec.guards, result, channel_of(spec))
    if spec.coupons is not None:
        result.coupons_needed = coupon_codes.needed(db, spec.coupons, result.snapshot)
        result.coupons_available = coupon_codes.available(db, spec.coupons)
        result.guards.append(
            coupon_guard(spec.coupons, result.coupons_needed, result.coupons_available)
        )
    _sample(spec, db, result, fields, samples)
    result.seconds = time.perf_counter() - started
    return result


def _state_relations(
    spec: SyncSpec, db: Db, previous: list[OtherTarget]
) -> tuple[str, str | None, str]:
    """SQL relations of this sync's confirmed state (hash unknown for keys a
    crash left in the write-ahead), of its possible members (mirror: the state
    plus additions sent but never confirmed; ``None`` when that is the state)
    and of its rejects. State written for ``previous`` targets (another
    provider or destination) says nothing of this one: the plan starts fresh."""
    sync = spec.name.replace("'", "''")
    members = None
    if has_state_tables(db) and not previous:
        state = f"(select * from {STATE} where sync_name = '{sync}')"
        if db.table_exists(SCHEMA, "sync_inflight") and db.scalar(
            f"select count(*) from {INFLIGHT} where sync_name = ?", [spec.name]
        ):
            # a record sent before a crash but never committed (settle_inflight folds
            # these into the state before a real run; a dry run only reads them): the
            # destination may hold the sent version or none, so its hash is unknown
            state = (
                "(select st.sync_name, st.record_key, case when exists (select 1 from "
                f"{INFLIGHT} as r where r.sync_name = '{sync}' "
                "and r.record_key = st.record_key) then '' else st.record_hash end "
                "as record_hash, st.destination_id, st.email "
                f"from {STATE} as st where st.sync_name = '{sync}')"
            )
            # an addition sent before a crash but never committed: maybe in the destination
            # (with the email it was sent with: its removal goes by that email)
            members = (
                f"(select record_key, email, record_hash, destination_id from {state} as m "
                "union all select i.record_key, max(i.email), cast(null as varchar), "
                f"cast(null as varchar) from {INFLIGHT} as i where i.sync_name = '{sync}' "
                "and not exists "
                f"(select 1 from {STATE} as x where x.sync_name = '{sync}' "
                "and x.record_key = i.record_key) group by i.record_key)"
            )
        rejects = f"(select * from {REJECTS} where sync_name = '{sync}')"
    else:  # a first run or a dry run on a fresh warehouse: no state yet
        state = (
            "(select cast(null as varchar) as record_key, cast(null as varchar) as record_hash, "
            "cast(null as varchar) as destination_id, cast(null as varchar) as email where 1 = 0)"
        )
        rejects = (
            "(select cast(null as varchar) as record_key, cast(null as varchar) as record_hash, "
            "0 as attempts, true as retryable where 1 = 0)"
        )
    return state, members, rejects


def _plan_table(
    spec: SyncSpec,
    db: Db,
    result: SyncPlan,
    fields: int,
    state: str,
    members: str | None,
    rejects: str,
) -> None:
    """The temporary table of records to send, numbered (``seq``) for chunked reads."""
    snap, todo = result.snapshot, result.table
    max_attempts = int(spec.guards.max_attempts)
    nulls = "".join(f", null as f_{i}" for i in range(fields))
    fsel = "".join(f", s.f_{i}" for i in range(fields))
    send_actions = SEND_ACTIONS[spec.mode]
    removal = (
        f"""union all
        select st.record_key, st.email, st.record_hash, st.destination_id, 'removed' as action,
               false as gave_up{nulls}
        from {members or state} as st
        where not exists (
            select 1 from {snap} as s where s.record_key = st.record_key and s.reason is null
        )"""
        if spec.mode == "mirror"
        else ""
    )
    db.execute(
        f"""create temp table {todo} as
        select row_number() over (order by action, record_key) as seq, p.*
        from (
            select s.record_key, s.email, s.record_hash, st.destination_id,
                   case when st.record_key is null then 'added' else 'changed' end as action,
                   coalesce(
                       rj.record_hash = s.record_hash
                       and (rj.attempts >= {max_attempts} or not rj.retryable), false
                   ) as gave_up
                   {fsel}
            from {snap} as s
            left join {state} as st on st.record_key = s.record_key
            left join {rejects} as rj on rj.record_key = s.record_key
            where s.reason is null
              and (st.record_key is null or st.record_hash <> s.record_hash)
            {removal}
        ) as p
        where p.action in {send_actions} or p.action = 'removed'"""
    )


def _count(
    spec: SyncSpec, db: Db, result: SyncPlan, state: str, members: str | None, *, unique: bool
) -> None:
    """The plan's counts, in a few small aggregate queries; records given up on
    leave the plan table. ``unique``: the snapshot holds each key once, so the
    members are matched to it by one join instead of two lookups each."""
    snap, todo = result.snapshot, result.table
    # the snapshot's rows by reason, in one pass: none (sendable), an unusable
    # address (invalid), any other (skipped)
    for reason, n in db.query(
        f"select reason, count(*) from {snap} group by reason order by count(*) desc, reason"
    ):
        result.audience_rows += int(n)
        if reason is None:
            result.sendable += int(n)
        elif reason in INVALID_ADDRESS:
            result.invalid += int(n)
        else:
            result.skipped_reasons[str(reason)] = int(n)
    result.skipped = sum(result.skipped_reasons.values())
    for action, gave_up, n in db.query(
        f"select action, gave_up, count(*) from {todo} group by action, gave_up"
    ):
        if gave_up:
            result.gave_up += int(n)
        elif action in ("added", "changed", "removed"):
            setattr(result, action, getattr(result, action) + int(n))
    if result.gave_up:
        db.execute(f"delete from {todo} where gave_up")
    if unique:
        members_sql = f"""select count(*),
                   sum(case when s.reason is null and s.record_hash = st.record_hash
                       then 1 else 0 end),
                   sum(case when s.record_key is null then 1 else 0 end)
            from {members or state} as st
            left join {snap} as s on s.record_key = st.record_key"""
    else:
        members_sql = f"""select count(*),
                   sum(case when exists (
                       select 1 from {snap} as s
                       where s.record_key = st.record_key and s.reason is null
                         and s.record_hash = st.record_hash) then 1 else 0 end),
                   sum(case when not exists (
                       select 1 from {snap} as s where s.record_key = st.record_key)
                       then 1 else 0 end)
            from {members or state} as st"""
    members_row = db.query(members_sql)[0]
    result.members = int(members_row[0] or 0)
    result.unchanged = int(members_row[1] or 0)
    if spec.mode == "events":
        result.departed = int(members_row[2] or 0)
    if spec.mode in ("create",):
        # changed records are left as they are in mode create
        result.unchanged += int(
            db.scalar(
                f"select count(*) from {snap} as s join {state} as st "
                "on st.record_key = s.record_key "
                "where s.reason is null and st.record_hash <> s.record_hash"
            )
            or 0
        )


def _sample(spec: SyncSpec, db: Db, result: SyncPlan, fields: int, samples: int) -> None:
    """A few records of each action, for the plan's display."""
    todo = result.table
    fsel = "".join(f", f_{i}" for i in range(fields))
    for action in ("added", "changed", "removed"):
        rows = db.query(
            f"select record_key, email{fsel} from {todo} "
            f"where action = '{action}' order by seq limit {int(samples)}"
        )
        if rows:
            address = "phone" if channel_of(spec) == "sms" else "email"
            result.samples[action] = [
                {"key": r[0], address: r[1], **dict(zip(spec.fields, r[2:], strict=True))}
                for r in rows
            ]


def iter_records(
    db: Db, p: SyncPlan, actions: tuple[str, ...], *, chunk: int = 5_000
) -> Iterator[tuple[int, Record]]:
    """The planned records of ``actions`` with their plan numbers (``seq``, as
    in the write-ahead), read from the plan table in chunks
    (each chunk fully fetched, so commits may run on ``db`` in between). The
    idempotency key is computed in the same query (see ``_idempotency``).

    A chunk is a range of ``seq`` (not ``seq > last ... limit``, which computes
    the key of every later row before keeping the first ``chunk``), and small:
    turning rows into Python objects holds the interpreter lock, which the
    threads sending and committing batches wait for."""
    n = len(p.columns)
    fsel = "".join(f", f_{i}" for i in range(n))
    marks = ", ".join(f"'{a}'" for a in actions)
    idem = (
        "md5(cast(? as varchar) || chr(31) || record_key || chr(31) "
        "|| coalesce(record_hash, 'None'))"
    )
    columns = p.columns
    name = p.spec.name
    sms = channel_of(p.spec) == "sms"  # the address column holds the E.164 phone
    first, last = db.query(f"select min(seq), max(seq) from {p.table} where action in ({marks})")[0]
    if first is None:
        return
    low = int(first) - 1
    while low < last:
        rows = db.query(
            f"select seq, record_key, email, record_hash, destination_id, {idem}{fsel} "
            f"from {p.table} where seq > ? and seq <= ? and action in ({marks}) order by seq",
            [name, low, low + chunk],
        )
        low += chunk
        # positional arguments (key, email, fields, hash, destination_id,
        # idempotency_key, phone): a keyword call costs twice as much, per record
        if sms:
            for row in rows:
                fields = dict(zip(columns, row[6:], strict=True))
                yield row[0], Record(row[1], None, fields, row[3] or "", row[4], row[5], row[2])
        else:
            for row in rows:
                fields = dict(zip(columns, row[6:], strict=True))
                yield row[0], Record(row[1], row[2], fields, row[3] or "", row[4], row[5])


def _idempotency(sync: str, key: str, record_hash: str | None) -> str:
    """The idempotency key of a record, as ``iter_records`` computes it in SQL:
    md5 of sync, key and hash joined by the unit separator (a missing hash is
    written ``None``, as it always was)."""
    import hashlib

    return hashlib.md5(f"{sync}\x1f{key}\x1f{record_hash}".encode()).hexdigest()


def drop(db: Db, p: SyncPlan) -> None:
    for table in (p.table, p.snapshot):
        if table and re.fullmatch(r"_act_\w+", table):
            db.execute(f"drop table if exists {table}")
