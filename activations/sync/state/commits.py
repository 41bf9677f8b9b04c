"""Per-batch commits: only what the destination confirmed enters
``sync_state`` (with its changelog row), in one transaction per batch.
``commit_outcomes`` takes the records and outcomes themselves; a run commits
by plan numbers from its write-ahead instead (``activations.sync.state.sent``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from activations.contract.records import Outcome, Record
from activations.sync.state.rejects import record_rejects
from activations.sync.state.runs import set_run_counts
from activations.sync.state.schema import CHANGELOG, INFLIGHT, REJECTS, STATE, has_state_tables, now
from activations.warehouse.db import Db


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
            db.delete_keys(INFLIGHT, sync_name, [o.key for o in confirmed])
            db.delete_keys(INFLIGHT, sync_name, [o.key for o in rejected], run_id=run_id)
        if confirmed:
            keys = [o.key for o in confirmed]
            hashes = [by_key[k].hash for k in keys]
            if operation == "remove":
                db.delete_keys(STATE, sync_name, keys)
            else:
                _write_state(db, sync_name, run_id, at, confirmed, by_key, actions)
            if clear_rejects:
                db.delete_keys(REJECTS, sync_name, keys)
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


def confirmed_count(db: Db, sync_name: str) -> int:
    if not has_state_tables(db):
        return 0
    return int(db.scalar(f"select count(*) from {STATE} where sync_name = ?", [sync_name]) or 0)
