"""Commit batch outcomes on a thread of their own, in the order they came,
several batches per transaction when they queue up (group commit).

The engine hands each confirmed batch's commit to a ``Committer`` and goes on
reading, encoding and sending while the warehouse writes it. Commits run in
submission order on a second connection to the same database (``Db.worker()``),
so no connection ever crosses threads. Every commit queued while the previous
transaction ran is folded into the next one (``Db.transaction`` nests as a
no-op), up to ``max_group`` batches: one commit, one WAL sync, for all of them;
consecutive batch commits that can merge (``SentCommit.merge``) write their
rows together, in a few statements instead of a few per batch.
Where there is no second connection (PostgreSQL) a commit runs at once in the
caller's thread, as before.

What a transaction holds does not change per batch: its confirmed records, and
the deletion of their write-ahead rows, only after the destination confirmed
them. A batch's write-ahead rows go in the very transaction that writes its
state, so a crash loses no confirmed record (its write-ahead rows are still
there: the next run resends it) and resends only what the write-ahead names.
Should a group fail, its batches are committed again one by one, so every
batch that can land does and the first error is raised. How many batches may
be confirmed but not committed yet is the dispatcher's bound (``commit_lag``).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future

from activations.warehouse.db import Db

Commit = Callable[[Db], object]


class Committer:
    """``submit(fn)`` runs ``fn(db)`` after every earlier submission; the first
    error is raised by the next ``submit``, ``check`` or ``close``."""

    def __init__(self, db: Db, *, max_group: int = 16):
        self._worker = db.worker()
        self.db = self._worker or db
        self.max_group = max(1, max_group)
        self.transactions = 0  # transactions committed by the worker (group commits)
        self._pending: list[Future[object]] = []
        self._queue: deque[tuple[Commit, Future[object]]] = deque()
        self._ready = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        if self._worker is not None:
            self._thread = threading.Thread(target=self._loop, name="commit", daemon=True)
            self._thread.start()

    def __enter__(self) -> Committer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def submit(self, fn: Commit) -> None:
        self.check()
        if self._thread is None:
            fn(self.db)
            return
        future: Future[object] = Future()
        with self._ready:
            self._queue.append((fn, future))
            self._ready.notify()
        self._pending.append(future)

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._closing:
                    self._ready.wait()
                if not self._queue:
                    return
                group = [
                    self._queue.popleft() for _ in range(min(self.max_group, len(self._queue)))
                ]
            self._commit(group)

    def _commit(self, group: list[tuple[Commit, Future[object]]]) -> None:
        # consecutive commits that can merge (SentCommit.merge) become one call
        calls: list[tuple[Commit, list[Future[object]]]] = []
        for fn, future in group:
            merge = getattr(calls[-1][0], "merge", None) if calls else None
            merged = merge(fn) if merge is not None else None
            if merged is not None:
                calls[-1] = (merged, [*calls[-1][1], future])
            else:
                calls.append((fn, [future]))
        results: list[object] = []
        try:
            with self.db.transaction():
                for fn, _ in calls:
                    results.append(fn(self.db))
        except BaseException:  # noqa: BLE001 - rolled back: each batch again, alone
            for fn, future in group:
                try:
                    future.set_result(fn(self.db))
                except BaseException as exc:  # noqa: BLE001 - raised by check/close
                    future.set_exception(exc)
            return
        self.transactions += 1
        for (_, futures), result in zip(calls, results, strict=True):
            for future in futures:
                future.set_result(result)

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
            if self._thread is not None:
                with self._ready:
                    self._closing = True
                    self._ready.notify()
                self._thread.join()
                self._thread = None
            pending, self._pending = self._pending, []
            for future in pending:
                future.result()
        finally:
            if self._worker is not None:
                self._worker.close()
                self._worker = None
