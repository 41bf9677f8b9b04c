"""At most one running run per sync: the lock row, taken over from a process
that died on this host."""

from __future__ import annotations

import os
import socket

from activations.errors import UserError
from activations.sync.state.schema import LOCKS, RUNS, now
from activations.warehouse.db import Db


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
