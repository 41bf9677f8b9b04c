"""Commit batch outcomes on a thread of their own, in the order they came.

The engine hands each confirmed batch's commit (one transaction) to a
``Committer`` and goes on reading, encoding and sending while the warehouse
writes it. Commits run one at a time, in submission order, on a second
connection to the same database (``Db.worker()``), so no connection ever
crosses threads. Where there is no second connection (PostgreSQL) a commit
runs at once in the caller's thread, as before.

What is committed does not change: each batch's confirmed records in their
own transaction, only after the destination confirmed them. The dispatcher
counts a batch whose commit is still running against its concurrency
(``unsettled``), so at any moment at most ``concurrency`` batches are sent but
not committed: a crash resends no more than it did with commits in line.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from activations.warehouse.db import Db

Commit = Callable[[Db], object]


class Committer:
    """``submit(fn)`` runs ``fn(db)`` after every earlier submission; the first
    error is raised by the next ``submit``, ``check`` or ``close``."""

    def __init__(self, db: Db):
        self._worker = db.worker()
        self.db = self._worker or db
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
            if self._worker is not None
            else None
        )
        self._pending: list[Future[object]] = []

    def __enter__(self) -> Committer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, fn: Commit) -> None:
        self.check()
        if self._pool is None:
            fn(self.db)
            return
        self._pending.append(self._pool.submit(fn, self.db))

    def unsettled(self) -> set[Future[object]]:
        """Commits not finished yet (what a dispatcher may wait on)."""
        return {f for f in self._pending if not f.done()}

    def check(self) -> None:
        """Raise the error of a finished commit, if any; forget finished ones."""
        done = [f for f in self._pending if f.done()]
        self._pending = [f for f in self._pending if not f.done()]
        for future in done:
            future.result()

    def close(self) -> None:
        """Finish the queued commits (also on the way out of an error: they hold
        confirmed records), raise the first commit error, close the connection."""
        try:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            pending, self._pending = self._pending, []
            for future in pending:
                future.result()
        finally:
            if self._worker is not None:
                self._worker.close()
                self._worker = None
