"""The sync state store, in the warehouse (schema ``activations``):

- ``sync_state``: per sync and record, the hash the destination confirmed and
  the destination's id for it. Only confirmed records are ever written here.
- ``sync_runs``: one row per run: start, end, status, counts, duration.
- ``sync_changelog``: one row per confirmed record change (added, changed,
  removed, departed) and per rejection.
- ``sync_rejects``: records the provider refused: its reason, attempts.
- ``sync_locks``: at most one running run per sync.
- ``sync_inflight``: write-ahead of the keys a run is sending (see
  ``mark_planned_inflight`` and ``settle_inflight``).

Works on DuckDB and PostgreSQL through ``activations.warehouse.db.Db``. Readers
tolerate missing tables (a dry run must not create them).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from activations.contract.records import Outcome, Record
from activations.errors import UserError
from activations.warehouse.db import Db

SCHEMA = "activations"
STATE = f"{SCHEMA}.sync_state"
RUNS = f"{SCHEMA}.sync_runs"
CHANGELOG = f"{SCHEMA}.sync_changelog"
REJECTS = f"{SCHEMA}.sync_rejects"
LOCKS = f"{SCHEMA}.sync_locks"
INFLIGHT = f"{SCHEMA}.sync_inflight"

RUN_COUNTS = (
    "planned",
    "added",
    "changed",
    "removed",
    "unchanged",
    "sent",
    "confirmed",
    "rejected",
    "skipped",
    "invalid",
    "gave_up",
    "unconfirmed",
    "requests",
)

DDL = [
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {STATE} (
        sync_name varchar not null,
        record_key varchar not null,
        record_hash varchar not null,
        destination_id varchar,
        email varchar,
        first_confirmed_at timestamp not null,
        last_confirmed_at timestamp not null,
        last_run_id varchar,
        primary key (sync_name, record_key)
    )""",
    f"""create table if not exists {RUNS} (
        run_id varchar primary key,
        sync_name varchar not null,
        provider varchar,
        destination varchar,
        mode varchar,
        status varchar not null,
        started_at timestamp not null,
        ended_at timestamp,
        duration_s double precision,
        {", ".join(f"{c} integer not null default 0" for c in RUN_COUNTS)},
        job_ids varchar,
        forced boolean,
        pid integer,
        host varchar,
        error varchar
    )""",
    f"""create table if not exists {CHANGELOG} (
        run_id varchar not null,
        sync_name varchar not null,
        record_key varchar not null,
        action varchar not null,
        record_hash varchar,
        destination_id varchar,
        reason varchar,
        changed_at timestamp not null
    )""",
    f"""create table if not exists {REJECTS} (
        sync_name varchar not null,
        record_key varchar not null,
        record_hash varchar,
        operation varchar,
        reason varchar,
        attempts integer not null,
        retryable boolean not null,
        first_rejected_at timestamp not null,
        last_rejected_at timestamp not null,
        last_run_id varchar,
        primary key (sync_name, record_key)
    )""",
    # write-ahead: keys a run is about to send, until their outcome is committed;
    # rows left after a run are records whose content at the destination is unknown
    f"""create table if not exists {INFLIGHT} (
        sync_name varchar not null,
        record_key varchar not null,
        operation varchar not null,
        run_id varchar not null
    )""",
    f"""create table if not exists {LOCKS} (
        sync_name varchar primary key,
        run_id varchar not null,
        pid integer,
        host varchar,
        acquired_at timestamp not null
    )""",
]


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_schema(db: Db) -> None:
    with db.transaction():
        for statement in DDL:
            db.execute(statement)


def has_state_tables(db: Db) -> bool:
    return db.table_exists(SCHEMA, "sync_state")


# ---------------------------------------------------------------- the run lock


class SyncLocked(UserError):
    """Another run of this sync holds the lock."""

    exit_code = 5


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire_lock(db: Db, sync_name: str, run_id: str) -> None:
    """Take the sync's lock, or raise ``SyncLocked``. A lock left by a process
    that died on this host (crash, SIGKILL) is taken over and its run marked
    ``crashed``."""
    host = socket.gethostname()
    with db.transaction():
        rows = db.query(
            f"select run_id, pid, host, acquired_at from {LOCKS} where sync_name = ?", [sync_name]
        )
        if rows:
            other_run, pid, other_host, since = rows[0]
            if other_host == host and pid is not None and not _process_alive(int(pid)):
                db.execute(f"delete from {LOCKS} where sync_name = ?", [sync_name])
                db.execute(
                    f"update {RUNS} set status = 'crashed', ended_at = ?, "
                    "error = 'the process ended without finishing the run' "
                    "where run_id = ? and status = 'running'",
                    [now(), other_run],
                )
            else:
                raise SyncLocked(
                    f"sync {sync_name!r} is already running (run {other_run}, pid {pid} on "
                    f"{other_host}, since {since:%Y-%m-%d %H:%M:%S} UTC)",
                    hint="wait for it to finish; if that process is gone for good, delete its row "
                    f"from {LOCKS}",
                )
        db.execute(
            f"insert into {LOCKS} (sync_name, run_id, pid, host, acquired_at) "
            "values (?, ?, ?, ?, ?) on conflict (sync_name) do nothing",
            [sync_name, run_id, os.getpid(), host, now()],
        )
        owner = db.scalar(f"select run_id from {LOCKS} where sync_name = ?", [sync_name])
    if owner != run_id:
        raise SyncLocked(f"sync {sync_name!r} is already running (run {owner})")


def release_lock(db: Db, sync_name: str, run_id: str) -> None:
    with db.transaction():
        db.execute(f"delete from {LOCKS} where sync_name = ? and run_id = ?", [sync_name, run_id])


# ---------------------------------------------------------------- runs


def start_run(
    db: Db, run_id: str, sync_name: str, provider: str, destination: str, mode: str, forced: bool
) -> datetime:
    started = now()
    with db.transaction():
        db.execute(
            f"insert into {RUNS} (run_id, sync_name, provider, destination, mode, status, "
            "started_at, forced, pid, host) values (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
            [
                run_id,
                sync_name,
                provider,
                destination,
                mode,
                started,
                forced,
                os.getpid(),
                socket.gethostname(),
            ],
        )
    return started


def set_run_counts(db: Db, run_id: str, counts: dict[str, int]) -> None:
    names = [c for c in RUN_COUNTS if c in counts]
    if not names:
        return
    db.execute(
        f"update {RUNS} set {', '.join(f'{c} = ?' for c in names)} where run_id = ?",
        [int(counts[c]) for c in names] + [run_id],
    )


def finish_run(
    db: Db,
    run_id: str,
    status: str,
    counts: dict[str, int],
    *,
    started: datetime,
    job_ids: Sequence[str] = (),
    error: str | None = None,
) -> datetime:
    ended = now()
    with db.transaction():
        set_run_counts(db, run_id, counts)
        db.execute(
            f"update {RUNS} set status = ?, ended_at = ?, duration_s = ?, job_ids = ?, error = ? "
            "where run_id = ?",
            [
                status,
                ended,
                (ended - started).total_seconds(),
                ",".join(job_ids) or None,
                error,
                run_id,
            ],
        )
    return ended


# ---------------------------------------------------------------- commits


def mark_planned_inflight(
    db: Db, sync_name: str, run_id: str, plan_table: str, actions: Sequence[str]
) -> None:
    """Write-ahead, before anything is sent: every key of the plan this run is
    about to send (``actions``: added, changed, and for mirror removed), in
    one set-based insert from the plan table, in its own transaction. A batch's
    commit deletes the keys whose outcome it knows (confirmed or rejected), so
    after a crash the rows left are exactly the records that may or may not
    hold what the run sent. (No key on this table: rows are only ever inserted
    and deleted in bulk.)"""
    if not actions:
        return
    marks = ", ".join("'" + a.replace("'", "''") + "'" for a in actions)
    with db.transaction():
        db.execute(
            f"insert into {INFLIGHT} (sync_name, record_key, operation, run_id) "
            f"select ?, record_key, case when action = 'removed' then 'remove' else 'upsert' "
            f"end, ? from {plan_table} where action in ({marks})",
            [sync_name, run_id],
        )


def settle_inflight(db: Db, sync_name: str, *, mode: str) -> None:
    """Before a run plans (under the run lock): write-ahead rows left by an
    earlier run (a crash, or a batch that never heard back) are records whose
    content at the destination is unknown. A record in the state loses its
    confirmed hash (``''``, its destination id kept), so the plan sees it as
    changed and sends it again whatever its data is now; its rows go. A record
    not in the state may have been added: mirror keeps its rows (the plan
    counts it as a member, so it is removed if it is not in the audience); the
    other modes never remove, so they drop them."""
    with db.transaction():
        db.execute(
            f"update {STATE} set record_hash = '' where sync_name = ? and record_key in "
            f"(select record_key from {INFLIGHT} where sync_name = ?)",
            [sync_name, sync_name],
        )
        if mode == "mirror":
            db.execute(
                f"delete from {INFLIGHT} where sync_name = ? and record_key in "
                f"(select record_key from {STATE} where sync_name = ?)",
                [sync_name, sync_name],
            )
        else:
            db.execute(f"delete from {INFLIGHT} where sync_name = ?", [sync_name])


@dataclass
class BatchCommit:
    confirmed: int = 0
    rejected: int = 0


def commit_outcomes(
    db: Db,
    sync_name: str,
    run_id: str,
    operation: str,
    records: Sequence[Record],
    outcomes: Sequence[Outcome],
    actions: Mapping[str, str] | None = None,
    *,
    write_ahead: bool = True,
    clear_rejects: bool = True,
    run_counts: Mapping[str, int] | None = None,
) -> BatchCommit:
    """Write one batch's outcomes in one transaction: confirmed records into
    (or, for ``remove``, out of) ``sync_state`` plus a changelog row each;
    rejected ones into ``sync_rejects`` with their reason and attempt count.
    Records without an outcome are left alone: they stay planned for next run."""
    by_key = {r.key: r for r in records}
    at = now()
    confirmed = [o for o in outcomes if o.status == "confirmed" and o.key in by_key]
    rejected = [o for o in outcomes if o.status == "rejected" and o.key in by_key]
    with db.transaction():
        if write_ahead:
            # the outcome is known: a confirmed record settles every write-ahead row
            # of its key; a rejected one only this run's (the destination kept what
            # it had, which an earlier crashed send may have changed)
            _delete_keys(db, INFLIGHT, sync_name, [o.key for o in confirmed])
            db.delete_keys(INFLIGHT, sync_name, [o.key for o in rejected], run_id=run_id)
        if confirmed:
            keys = [o.key for o in confirmed]
            hashes = [by_key[k].hash for k in keys]
            if operation == "remove":
                _delete_keys(db, STATE, sync_name, keys)
            else:
                _write_state(db, sync_name, run_id, at, confirmed, by_key, actions)
            if clear_rejects:
                _delete_keys(db, REJECTS, sync_name, keys)
            fixed = {"remove": "removed", "event": "sent"}.get(operation)
            kinds = actions or {}
            db.insert_rows(
                CHANGELOG,
                ["record_key", "action", "record_hash", "destination_id"],
                [
                    (o.key, fixed or kinds.get(o.key, "added"), h, o.destination_id)
                    for o, h in zip(confirmed, hashes, strict=True)
                ],
                types=["varchar"] * 4,
                constants={"run_id": run_id, "sync_name": sync_name, "changed_at": at},
            )
        if rejected:
            record_rejects(
                db,
                sync_name,
                run_id,
                operation,
                [
                    (o.key, by_key[o.key].hash, o.reason or "rejected", o.retryable)
                    for o in rejected
                ],
                at=at,
            )
        if run_counts:
            set_run_counts(db, run_id, dict(run_counts))
    return BatchCommit(confirmed=len(confirmed), rejected=len(rejected))


def _write_state(
    db: Db,
    sync_name: str,
    run_id: str,
    at: datetime,
    confirmed: Sequence[Outcome],
    by_key: Mapping[str, Record],
    actions: Mapping[str, str] | None,
) -> None:
    """Confirmed records into ``sync_state``. A record the plan found absent
    from the state (action ``added``; the run lock keeps it so) is a plain
    insert, cheaper than an upsert by half; any other is an upsert. Should an
    ``added`` key be there after all, the primary key refuses the batch and the
    run fails: it is never written twice."""
    fixed = {
        "sync_name": sync_name,
        "first_confirmed_at": at,
        "last_confirmed_at": at,
        "last_run_id": run_id,
    }
    kinds = actions or {}
    fresh: list[tuple[str, str, str | None, str | None]] = []
    known: list[tuple[str, str, str | None, str | None]] = []
    for o in confirmed:
        record = by_key[o.key]
        row = (o.key, record.hash, o.destination_id or record.destination_id, record.email)
        (fresh if kinds.get(o.key) == "added" else known).append(row)
    columns = ["record_key", "record_hash", "destination_id", "email"]
    db.insert_rows(STATE, columns, fresh, types=["varchar"] * 4, constants=fixed)
    db.insert_rows(
        STATE,
        columns,
        known,
        types=["varchar"] * 4,
        constants=fixed,
        conflict=("sync_name", "record_key"),
        update=("record_hash", "destination_id", "email", "last_confirmed_at", "last_run_id"),
    )


def record_rejects(
    db: Db,
    sync_name: str,
    run_id: str,
    operation: str,
    rows: Sequence[tuple[str, str, str, bool]],
    *,
    at: datetime | None = None,
) -> None:
    """Upsert (key, hash, reason, retryable) rejections: the attempt count grows
    while the record's hash stays the same and restarts at 1 when it changes."""
    if not rows:
        return
    at = at or now()
    with db.transaction():
        previous: dict[str, tuple[str, int]] = {}
        keys = [r[0] for r in rows]
        for start in range(0, len(keys), 1000):
            chunk = keys[start : start + 1000]
            for key, old_hash, attempts in db.query(
                f"select record_key, record_hash, attempts from {REJECTS} where sync_name = ? "
                f"and record_key in ({', '.join('?' for _ in chunk)})",
                [sync_name, *chunk],
            ):
                previous[key] = (old_hash, int(attempts))

        def attempts(key: str, record_hash: str) -> int:
            old = previous.get(key)
            return old[1] + 1 if old and old[0] == record_hash else 1

        db.insert_rows(
            REJECTS,
            ["record_key", "record_hash", "operation", "reason", "attempts", "retryable"],
            [
                (key, h, operation, reason, attempts(key, h), retryable)
                for key, h, reason, retryable in rows
            ],
            types=["varchar", "varchar", "varchar", "varchar", "integer", "boolean"],
            constants={
                "sync_name": sync_name,
                "first_rejected_at": at,
                "last_rejected_at": at,
                "last_run_id": run_id,
            },
            conflict=("sync_name", "record_key"),
            update=(
                "record_hash",
                "operation",
                "reason",
                "attempts",
                "retryable",
                "last_rejected_at",
                "last_run_id",
            ),
        )
        db.insert_rows(
            CHANGELOG,
            ["record_key", "record_hash", "reason"],
            [(key, h, reason) for key, h, reason, _ in rows],
            types=["varchar"] * 3,
            constants={
                "run_id": run_id,
                "sync_name": sync_name,
                "action": "rejected",
                "destination_id": None,
                "changed_at": at,
            },
        )


def _delete_keys(db: Db, table: str, sync_name: str, keys: Sequence[str]) -> None:
    db.delete_keys(table, sync_name, keys)


# ---------------------------------------------------------------- reading


def runs(db: Db, sync_name: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    if not db.table_exists(SCHEMA, "sync_runs"):
        return []
    where = "where sync_name = ?" if sync_name else ""
    params: list[Any] = [sync_name] if sync_name else []
    cols = [
        "run_id",
        "sync_name",
        "status",
        "started_at",
        "ended_at",
        "duration_s",
        *RUN_COUNTS,
        "forced",
        "error",
    ]
    rows = db.query(
        f"select {', '.join(cols)} from {RUNS} {where} order by started_at desc limit {int(limit)}",
        params,
    )
    return [dict(zip(cols, r, strict=True)) for r in rows]


def last_runs(db: Db) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in reversed(runs(db, None, limit=10_000)):
        out[row["sync_name"]] = row
    return out


def confirmed_count(db: Db, sync_name: str) -> int:
    if not has_state_tables(db):
        return 0
    return int(db.scalar(f"select count(*) from {STATE} where sync_name = ?", [sync_name]) or 0)
