"""The plan of one sync, computed in the warehouse (set-based SQL, no Python
loop over the audience): normalise identities, hash the mapped fields of every
audience record, compare with the state the destination confirmed, and keep
only the records to send in a temporary table that delivery reads in chunks.

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
from activations.errors import UserError
from activations.sync.specs import SyncSpec
from activations.sync.state import INFLIGHT, REJECTS, SCHEMA, STATE, has_state_tables
from activations.warehouse.db import Db

EMAIL_PATTERN = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
INVALID_EMAIL = "invalid email address"
REQUIRED_COLUMNS = ("is_sendable",)


@dataclass(frozen=True)
class GuardVerdict:
    name: str
    passed: bool
    message: str


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
    departed: int = 0  # events mode: confirmed earlier, no longer in the audience
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


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_audience(spec: SyncSpec, db: Db) -> list[str]:
    schema, table = spec.audience_schema, spec.audience_table
    if not db.table_exists(schema, table):
        known = ", ".join(db.tables(schema)) or "(none yet)"
        raise UserError(
            f"{spec.where('audience')}: sync {spec.name!r}: audience table "
            f"{schema}.{table} does not exist in the warehouse",
            hint=f"build it first (`dbt build --select {table}`); tables in {schema}: {known}",
        )
    columns = db.columns(schema, table)
    lowered = {c.lower(): c for c in columns}
    wanted = [("identity", spec.identity)] + [
        (f"fields.{dest}", col) for dest, col in spec.fields.items()
    ]
    for path, col in wanted:
        if col.lower() not in lowered:
            raise UserError(
                f"{spec.where(*path.split('.', 1))}: sync {spec.name!r}: field `{path}`: "
                f"unknown column {col!r} in {schema}.{table}",
                hint=f"columns of {schema}.{table}: {', '.join(columns)}",
            )
    for col in REQUIRED_COLUMNS:
        if col not in lowered:
            raise UserError(
                f"{spec.where('audience')}: sync {spec.name!r}: audience {schema}.{table} has no "
                f"{col} column, so consent cannot be checked",
                hint="audience models share the contract person_id, email, entered_at, "
                "audience, is_sendable, suppression_reason, is_control",
            )
    return columns


def _text(expr: str) -> str:
    return f"cast({expr} as varchar)"


def _part(expr: str) -> str:
    """A column as an unambiguous piece of the canonical record text."""
    t = _text(expr)
    return f"coalesce({_text(f'length({t})')} || ':' || {t}, '~')"


def plan(spec: SyncSpec, conn: Any, *, samples: int = 3) -> SyncPlan:
    """Compute the plan of ``spec`` against the warehouse; creates temporary
    tables only (nothing persistent), so it is safe on a read-only connection."""
    started = time.perf_counter()
    db = Db.wrap(conn)
    columns = check_audience(spec, db)
    lowered = {c.lower() for c in columns}
    result = SyncPlan(spec=spec, columns=list(spec.fields))
    suffix = uuid.uuid4().hex[:10]
    snap, todo = f"_act_snap_{suffix}", f"_act_plan_{suffix}"
    result.snapshot, result.table = snap, todo

    email_col = "a.email" if "email" in lowered else "cast(null as varchar)"
    email = f"lower(trim({_text(email_col)}))"
    key = email if spec.identity.lower() == "email" else _text(f"a.{_q(spec.identity)}")
    mapped = [f"a.{_q(col)}" for col in spec.fields.values()]
    canon_parts = [_part(email)] + [_part(m) for m in mapped]
    if spec.mode == "events" and "entered_at" in lowered:
        canon_parts.append(_part("a.entered_at"))  # a re-entry is a new event
    header = "|".join(f"{d}={c}" for d, c in spec.fields.items()).replace("'", "''")
    record_hash = f"md5('{header}' || '|' || " + " || '|' || ".join(canon_parts) + ")"
    policy_join, policy_case = "", ""
    if "person_id" in lowered and db.table_exists("core", "contact_policy"):
        policy_cols = {c.lower() for c in db.columns("core", "contact_policy")}
        if {"person_id", "can_email_marketing"} <= policy_cols:
            reason = "cp.reason" if "reason" in policy_cols else "cast(null as varchar)"
            policy_join = (
                f"left join core.contact_policy as cp on cp.person_id = {_text('a.person_id')}"
            )
            policy_case = (
                "when cp.can_email_marketing = false "
                f"then 'contact policy: ' || coalesce({reason}, 'no marketing email')"
            )
    suppression = (
        f"coalesce('not sendable: ' || {_text('a.suppression_reason')}, 'not sendable')"
        if "suppression_reason" in lowered
        else "'not sendable'"
    )
    fcols = ", ".join(f"{m} as f_{i}" for i, m in enumerate(mapped))
    fcols = (", " + fcols) if fcols else ""
    db.execute(
        f"""create temp table {snap} as
        select
            record_key, email, record_hash, reason{"".join(f", f_{i}" for i in range(len(mapped)))}
        from (
            select
                k.*,
                case
                    when k.base_reason is not null then k.base_reason
                    when k.dup > 1 then 'duplicate identity'
                    else null
                end as reason
            from (
                select
                    {key} as record_key,
                    {email} as email,
                    {record_hash} as record_hash,
                    case
                        when a.{_q(spec.identity)} is null then 'missing identity'
                        when not coalesce(a.is_sendable, false) then {suppression}
                        {policy_case}
                        when {email} is null or not {db.regex_match(email, EMAIL_PATTERN)}
                            then '{INVALID_EMAIL}'
                        else null
                    end as base_reason,
                    row_number() over (partition by {key} order by {record_hash}) as dup
                    {fcols}
                from {spec.audience_schema}.{_q(spec.audience_table)} as a
                {policy_join}
            ) as k
        ) as s"""
    )

    sync = spec.name.replace("'", "''")
    members = None
    if has_state_tables(db):
        state = f"(select * from {STATE} where sync_name = '{sync}')"
        if db.table_exists(SCHEMA, "sync_inflight"):
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
            members = (
                f"(select record_key, email, record_hash, destination_id from {state} as m "
                f"union all select distinct i.record_key, cast(null as varchar), "
                "cast(null as varchar), "
                f"cast(null as varchar) from {INFLIGHT} as i where i.sync_name = '{sync}' "
                "and not exists "
                f"(select 1 from {STATE} as x where x.sync_name = '{sync}' "
                "and x.record_key = i.record_key))"
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
    max_attempts = int(spec.guards.max_attempts)
    nulls = "".join(f", null as f_{i}" for i in range(len(mapped)))
    fsel = "".join(f", s.f_{i}" for i in range(len(mapped)))
    send_actions = {
        "upsert": "('added', 'changed')",
        "mirror": "('added', 'changed')",
        "update": "('added', 'changed')",
        "create": "('added')",
        "events": "('added')",
    }[spec.mode]
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
    # the counts, in three small aggregate queries
    row = db.query(
        f"""select count(*),
                   sum(case when reason is null then 1 else 0 end),
                   sum(case when reason = '{INVALID_EMAIL}' then 1 else 0 end)
            from {snap}"""
    )[0]
    result.audience_rows, result.sendable, result.invalid = (int(v or 0) for v in row)
    for reason, n in db.query(
        f"select reason, count(*) from {snap} where reason is not null "
        f"and reason <> '{INVALID_EMAIL}' group by reason order by count(*) desc"
    ):
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
    members_row = db.query(
        f"""select count(*),
                   sum(case when exists (
                       select 1 from {snap} as s
                       where s.record_key = st.record_key and s.reason is null
                         and s.record_hash = st.record_hash) then 1 else 0 end),
                   sum(case when not exists (
                       select 1 from {snap} as s
                       where s.record_key = st.record_key and s.reason is null)
                       then 1 else 0 end)
            from {members or state} as st"""
    )[0]
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
    result.guards = _guards(spec, result)
    for action in ("added", "changed", "removed"):
        rows = db.query(
            f"select record_key, email{fsel.replace('s.', '')} from {todo} "
            f"where action = '{action}' order by seq limit {int(samples)}"
        )
        if rows:
            result.samples[action] = [
                {"key": r[0], "email": r[1], **dict(zip(spec.fields, r[2:], strict=True))}
                for r in rows
            ]
    result.seconds = time.perf_counter() - started
    return result


def _guards(spec: SyncSpec, p: SyncPlan) -> list[GuardVerdict]:
    g = spec.guards
    verdicts = [
        GuardVerdict(
            "consent",
            True,
            f"{p.sendable} sendable; {p.skipped} skipped by consent or identity; "
            f"{p.invalid} invalid emails",
        )
    ]
    if spec.mode == "mirror":
        share = p.removed / p.members if p.members else 0.0
        verdicts.append(
            GuardVerdict(
                "removal_cap",
                p.removed == 0 or share <= g.max_removal_share,
                f"would remove {p.removed} of {p.members} members ({share:.0%}); "
                f"the cap is {g.max_removal_share:.0%}",
            )
        )
        verdicts.append(
            GuardVerdict(
                "empty_audience",
                g.allow_empty or p.sendable > 0 or p.members == 0,
                f"the audience has {p.sendable} sendable records and the destination "
                f"{p.members} members from this sync",
            )
        )
    return verdicts


def iter_records(
    db: Db, p: SyncPlan, actions: tuple[str, ...], *, chunk: int = 20_000
) -> Iterator[tuple[str, Record]]:
    """The planned records of ``actions``, read from the plan table in chunks
    (each chunk fully fetched, so commits may run on ``db`` in between). The
    idempotency key is computed in the same query (see ``_idempotency``)."""
    n = len(p.columns)
    fsel = "".join(f", f_{i}" for i in range(n))
    marks = ", ".join(f"'{a}'" for a in actions)
    idem = (
        "md5(cast(? as varchar) || chr(31) || record_key || chr(31) "
        "|| coalesce(record_hash, 'None'))"
    )
    columns = p.columns
    name = p.spec.name
    last = 0
    while True:
        rows = db.query(
            f"select seq, record_key, email, record_hash, destination_id, action, {idem}{fsel} "
            f"from {p.table} where seq > ? and action in ({marks}) order by seq limit {chunk}",
            [name, last],
        )
        if not rows:
            return
        for row in rows:
            yield (
                row[5],
                Record(
                    key=row[1],
                    email=row[2],
                    fields=dict(zip(columns, row[7:], strict=True)),
                    hash=row[3] or "",
                    destination_id=row[4],
                    idempotency_key=row[6],
                ),
            )
        last = rows[-1][0]


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
