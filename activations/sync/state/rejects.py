"""Records the provider refused (``sync_rejects``): the reason, the attempts,
and when a record is given up on."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from activations.sync.state.schema import CHANGELOG, REJECTS, now
from activations.warehouse.db import Db


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
