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

Every row names the run that wrote it, and ``sync_runs`` that run's provider
and destination: state written for another destination is retired, never
reused (``targets``).

Works on DuckDB and PostgreSQL through ``activations.warehouse.db.Db``. Readers
tolerate missing tables (a dry run must not create them).
"""

from activations.sync.state.commits import (
    BatchCommit,
    commit_outcomes,
    confirmed_count,
)
from activations.sync.state.inflight import mark_planned_inflight, settle_inflight
from activations.sync.state.locks import SyncLocked, acquire_lock, release_lock
from activations.sync.state.rejects import record_rejects
from activations.sync.state.runs import finish_run, last_runs, runs, set_run_counts, start_run
from activations.sync.state.schema import (
    CHANGELOG,
    DDL,
    INFLIGHT,
    LOCKS,
    REJECTS,
    RUN_COUNTS,
    RUNS,
    SCHEMA,
    STATE,
    ensure_schema,
    has_state_tables,
    now,
)
from activations.sync.state.sent import SentCommit, commit_sent
from activations.sync.state.targets import OtherTarget, other_targets, retire_other_targets

__all__ = [
    "SCHEMA",
    "STATE",
    "RUNS",
    "CHANGELOG",
    "REJECTS",
    "LOCKS",
    "INFLIGHT",
    "RUN_COUNTS",
    "DDL",
    "now",
    "ensure_schema",
    "has_state_tables",
    "SyncLocked",
    "acquire_lock",
    "release_lock",
    "start_run",
    "set_run_counts",
    "finish_run",
    "runs",
    "last_runs",
    "mark_planned_inflight",
    "settle_inflight",
    "BatchCommit",
    "SentCommit",
    "commit_sent",
    "commit_outcomes",
    "confirmed_count",
    "record_rejects",
    "OtherTarget",
    "other_targets",
    "retire_other_targets",
]
