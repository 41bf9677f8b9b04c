"""A run's batch commits, read from its write-ahead.

Every record a run sends has a write-ahead row (``mark_planned_inflight``)
holding what was sent: its plan number (``seq``), key, hash, address, the
destination id the state knew and the plan's action. So a confirmed batch
is only the plan numbers of its confirmed records (and the ids the
destination answered with): ``sync_state`` and the changelog are written
with ``insert ... select`` from the write-ahead, and those write-ahead rows
deleted, in one transaction. Passing every column of every record from
Python instead cost the commit thread as much as the inserts themselves.

The crash contract is the one of ``commit_outcomes``: a record's state and
changelog rows and the deletion of its write-ahead rows commit together,
only after the destination confirmed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from activations.sync.state.commits import BatchCommit
from activations.sync.state.rejects import record_rejects
from activations.sync.state.runs import set_run_counts
from activations.sync.state.schema import CHANGELOG, INFLIGHT, REJECTS, STATE, now
from activations.warehouse.db import Db

#: the temporary table of a commit's confirmed plan numbers (the committing connection's)
SENT = "_act_sent"

#: a refused record: plan number, key, hash, the provider's reason, retryable
Rejection = tuple[int, str, str, str, bool]


class WriteAheadMissing(RuntimeError):
    """A confirmed record had no write-ahead row of this run: nothing of the
    batch is committed (the run fails instead of forgetting what was sent)."""


@dataclass
class SentCommit:
    """One batch's (or, merged, several consecutive batches') outcomes, by plan
    number: calling it runs ``commit_sent``."""

    sync_name: str
    run_id: str
    operation: str  # upsert | update | remove | event
    seqs: list[int] = field(default_factory=list)  # confirmed records
    ids: list[str | None] = field(default_factory=list)  # the destination's ids, as seqs
    rejected: list[Rejection] = field(default_factory=list)
    clear_rejects: bool = True  # the sync has rejects a confirmation may clear
    keep_email: bool = True  # False for SMS: the state keeps no address
    # the sync had write-ahead rows of earlier runs when this one began (a crash's)
    earlier: bool = True
    # the plan numbers additions first: up to this one (None: unknown), a record
    # was absent from the state and its confirmation is a plain insert
    added_through: int | None = None
    run_counts: Mapping[str, int] | None = None

    def __call__(self, db: Db) -> BatchCommit:
        return commit_sent(db, self)

    def merge(self, later: object) -> SentCommit | None:
        """This commit and the ``later`` one as one, or None when they differ in
        sync, run, operation or settings (the latest run counts win)."""
        if not isinstance(later, SentCommit) or self._same() != later._same():
            return None
        return SentCommit(
            self.sync_name,
            self.run_id,
            self.operation,
            seqs=[*self.seqs, *later.seqs],
            ids=[*self.ids, *later.ids],
            rejected=[*self.rejected, *later.rejected],
            clear_rejects=self.clear_rejects,
            keep_email=self.keep_email,
            earlier=self.earlier,
            added_through=self.added_through,
            run_counts=later.run_counts or self.run_counts,
        )

    def _same(self) -> tuple[Any, ...]:
        return (
            self.sync_name,
            self.run_id,
            self.operation,
            self.clear_rejects,
            self.keep_email,
            self.earlier,
            self.added_through,
        )


def commit_sent(db: Db, sent: SentCommit) -> BatchCommit:
    """Write the confirmed records into (``remove``: out of) ``sync_state`` with
    a changelog row each, the rejected ones into ``sync_rejects``, and settle
    their write-ahead rows, in one transaction. Records with no outcome keep
    their write-ahead rows: they are unknown until a later run settles them."""
    at = now()
    with db.transaction():
        if sent.seqs:
            _commit_confirmed(db, sent, at)
        if sent.rejected:
            record_rejects(
                db,
                sent.sync_name,
                sent.run_id,
                sent.operation,
                [(key, h, reason, retryable) for _, key, h, reason, retryable in sent.rejected],
                at=at,
            )
            # only this run's row: the destination kept what it had, which an
            # earlier crashed send may have changed
            relation, params = db.values({"seq": ("bigint", [r[0] for r in sent.rejected])})
            db.execute(
                f"delete from {INFLIGHT} where run_id = ? and seq in "
                f"(select r.seq from {relation} as r)",
                [sent.run_id, *params],
            )
        if sent.run_counts:
            set_run_counts(db, sent.run_id, dict(sent.run_counts))
    return BatchCommit(confirmed=len(sent.seqs), rejected=len(sent.rejected))


def _commit_confirmed(db: Db, sent: SentCommit, at: Any) -> None:
    # the confirmed plan numbers (and the ids given) into a temporary table once: a
    # list bound as a parameter is converted again by every statement that reads it
    db.execute(f"create temp table if not exists {SENT} (seq bigint, destination_id varchar)")
    db.execute(f"delete from {SENT}")
    columns: dict[str, tuple[str, list[Any]]] = {"seq": ("bigint", sent.seqs)}
    if any(i is not None for i in sent.ids):
        columns["destination_id"] = ("varchar", sent.ids)
    relation, params = db.values(columns)
    db.execute(f"insert into {SENT} ({', '.join(columns)}) select * from {relation} as c", params)
    sync, run_id = sent.sync_name, sent.run_id
    # this run's write-ahead rows of the confirmed records
    lo, hi = min(sent.seqs), max(sent.seqs)
    rows = (
        f"from {INFLIGHT} as i join {SENT} as c on c.seq = i.seq "
        f"where i.run_id = ? and i.seq between {int(lo)} and {int(hi)}"
    )
    keys = f"select i.record_key {rows}"
    if sent.operation == "remove":
        db.execute(
            f"delete from {STATE} where sync_name = ? and record_key in ({keys})", [sync, run_id]
        )
    else:
        _write_state(db, sent, rows, at)
    if sent.clear_rejects:
        db.execute(
            f"delete from {REJECTS} where sync_name = ? and record_key in ({keys})", [sync, run_id]
        )
    action = {"remove": "'removed'", "event": "'sent'"}.get(sent.operation, "i.action")
    logged = db.changed(
        f"insert into {CHANGELOG} (run_id, sync_name, record_key, action, record_hash, "
        "destination_id, changed_at) "
        f"select i.run_id, i.sync_name, i.record_key, {action}, coalesce(i.record_hash, ''), "
        f"c.destination_id, ? {rows}",
        [at, run_id],
    )
    if logged != len(sent.seqs):
        raise WriteAheadMissing(
            f"sync {sync!r} run {run_id}: {len(sent.seqs)} records confirmed, "
            f"{logged} of them found in the write-ahead"
        )
    if sent.earlier:
        # a confirmed record settles every write-ahead row of its key, an earlier run's too
        db.execute(
            f"delete from {INFLIGHT} where sync_name = ? and record_key in ({keys})",
            [sync, run_id],
        )
    else:  # only this run's rows: by plan number
        db.execute(
            f"delete from {INFLIGHT} where run_id = ? and seq in (select c.seq from {SENT} as c)",
            [run_id],
        )


def _write_state(db: Db, sent: SentCommit, rows: str, at: Any) -> None:
    """Confirmed records into ``sync_state``: those the plan found absent
    (action ``added``; the run lock keeps it so) by a plain insert, cheaper
    than an upsert by half; the others by an upsert. Should an ``added`` key be
    there after all, the primary key refuses the batch and the run fails: it is
    never written twice."""
    email = "i.email" if sent.keep_email else "cast(null as varchar)"
    select = (
        "select i.sync_name, i.record_key, coalesce(i.record_hash, ''), "
        f"coalesce(nullif(c.destination_id, ''), i.destination_id), {email}, ?, ?, ? {rows}"
    )
    insert = (
        f"insert into {STATE} (sync_name, record_key, record_hash, destination_id, email, "
        "first_confirmed_at, last_confirmed_at, last_run_id) "
    )
    values = [at, at, sent.run_id, sent.run_id]
    upto = sent.added_through
    if upto is None or min(sent.seqs) <= upto:
        db.execute(f"{insert}{select} and i.action = 'added'", values)
    if upto is not None and max(sent.seqs) <= upto:
        return  # additions only
    db.execute(
        f"{insert}{select} and i.action <> 'added' on conflict (sync_name, record_key) "
        "do update set record_hash = excluded.record_hash, "
        "destination_id = excluded.destination_id, email = excluded.email, "
        "last_confirmed_at = excluded.last_confirmed_at, last_run_id = excluded.last_run_id",
        values,
    )
