"""The run record: one ``sync_runs`` row per run, its counters, and the readers
``activations runs`` and the report use."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from activations.sync.state.schema import RUN_COUNTS, RUNS, SCHEMA, now
from activations.warehouse.db import Db


def start_run(
    db: Db,
    run_id: str,
    sync_name: str,
    provider: str,
    destination: str,
    mode: str,
    forced: bool,
    *,
    audience: str | None = None,
) -> datetime:
    started = now()
    with db.transaction():
        db.execute(
            f"insert into {RUNS} (run_id, sync_name, audience, provider, destination, mode, "
            "status, started_at, forced, pid, host) "
            "values (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
            [
                run_id,
                sync_name,
                audience,
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
