"""The write-ahead of the keys a run is sending (``sync_inflight``), and how
the next run settles what a crash left there."""

from __future__ import annotations

from collections.abc import Sequence

from activations.sync.state.schema import INFLIGHT, STATE
from activations.warehouse.db import Db


def mark_planned_inflight(
    db: Db, sync_name: str, run_id: str, plan_table: str, actions: Sequence[str]
) -> None:
    """Write-ahead, before anything is sent: every key of the plan this run is
    about to send (``actions``: added, changed, and for mirror removed), in
    one set-based insert from the plan table, in its own transaction, with what
    is sent of each (plan number, hash, address, known destination id, action:
    the batch commits read them from here, ``activations.sync.state.sent``). A
    batch's commit deletes the keys whose outcome it knows (confirmed or rejected), so
    after a crash the rows left are exactly the records that may or may not
    hold what the run sent. Each row keeps the email it was sent with: a person
    known only from here (added, then a crash) is removed by that email. (No key
    on this table: rows are only ever inserted and deleted in bulk.)"""
    if not actions:
        return
    marks = ", ".join("'" + a.replace("'", "''") + "'" for a in actions)
    with db.transaction():
        db.execute(
            f"insert into {INFLIGHT} (sync_name, record_key, operation, run_id, email, seq, "
            "record_hash, destination_id, action) "
            f"select ?, record_key, case when action = 'removed' then 'remove' else 'upsert' "
            f"end, ?, email, seq, record_hash, destination_id, action from {plan_table} "
            f"where action in ({marks})",
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
    other modes never remove, so they drop them. Nothing to do (and no scan of
    the state) when the sync has no write-ahead rows, as after every clean run."""
    if not db.scalar(f"select count(*) from {INFLIGHT} where sync_name = ?", [sync_name]):
        return
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
