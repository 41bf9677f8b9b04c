"""Micro-batches of calls into the warehouse, one transaction each.

``Store`` writes one batch: events, identifies and rejects in one transaction,
skipping every ``message_id`` already landed (in the batch itself, or in the
table) inside that same transaction, so a retried call is stored once.
``raw.events`` is checked over the dedupe window on ``received_at`` (the
collector appends in ``received_at`` order, so DuckDB's zone maps skip every
older row group and the check stays cheap as the table grows);
``raw.identifies`` has no arrival time and is checked whole (it is small).

``Batcher`` gathers the calls of concurrent requests and hands them to one
writer task, bounded by count and by time: a batch is written once it holds
``max_calls`` calls or its first call has waited ``max_wait`` seconds, and
each request's answer waits for the commit of the batch that holds its calls
(acknowledged = landed). While a batch is written the next one gathers. The
writer task is the only user of the warehouse connection: it opens it on the
first batch and, on DuckDB, closes it after ``idle_release`` seconds without
calls, so the collector does not hold DuckDB's single-writer lock while idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from activations.collect.segment import EventRow, IdentifyRow, Rows
from activations.warehouse.connections import connect
from activations.warehouse.db import Db
from activations.warehouse.raw_schema import (
    RAW_SCHEMA,
    RAW_TABLES,
    REJECT_TABLES,
    create_raw_schema_sql,
    create_table_sql,
)

REJECTS = "collector_rejects"
_STAGE = {"events": "collect_stage_events", "identifies": "collect_stage_identifies"}


def _types(table: str) -> list[str]:
    return [t for _, t in RAW_TABLES[table]]


def _names(table: str) -> list[str]:
    return [f'"{c}"' for c, _ in RAW_TABLES[table]]


@dataclass
class Batch:
    events: list[EventRow] = field(default_factory=list)
    identifies: list[IdentifyRow] = field(default_factory=list)
    rejects: list[tuple[str, datetime, str, str | None, str, str]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.events) + len(self.identifies) + len(self.rejects)


class Store:
    """The warehouse side: one connection, opened on demand."""

    def __init__(
        self,
        warehouse: str | None,
        *,
        schema: str = RAW_SCHEMA,
        dedupe_window: timedelta = timedelta(hours=24),
    ):
        self.warehouse = warehouse
        self.schema = schema
        self.dedupe_window = dedupe_window
        self.db: Db | None = None

    @property
    def connected(self) -> bool:
        return self.db is not None

    def open(self) -> Db:
        if self.db is None:
            db = Db(connect(self.warehouse))
            try:
                for statement in create_raw_schema_sql(self.schema):
                    db.execute(statement)
                db.execute(create_table_sql(REJECTS, self.schema))
                if db.dialect == "duckdb":  # pyarrow's first use imports pandas: now, not mid-batch
                    db.conn.register("collect_warm_up", _arrow("identifies", [(None,) * 5]))
                    db.conn.execute("select count(*) from collect_warm_up").fetchall()
                    db.conn.unregister("collect_warm_up")
                for table, stage in _STAGE.items():
                    db.execute(
                        f"create temporary table if not exists {stage} as "
                        f"select * from {self.schema}.{table} where 1 = 0"
                    )
            except BaseException:
                db.close()
                raise
            self.db = db
        return self.db

    def close(self) -> None:
        if self.db is not None:
            db, self.db = self.db, None
            with contextlib.suppress(Exception):
                db.close()

    def write(self, batch: Batch) -> tuple[int, int]:
        """Land one batch in one transaction; returns (events, identifies) new rows
        offered (duplicates within the batch removed; rows already in the table are
        skipped by the insert itself). A failure closes the connection (the next
        batch opens a fresh one) and propagates."""
        events = list({r[0]: r for r in reversed(batch.events)}.values())[::-1]
        identifies = list({r[0]: r for r in reversed(batch.identifies)}.values())[::-1]
        try:
            db = self.open()
            with db.transaction():
                if events:
                    cutoff = min(r[5] for r in events) - self.dedupe_window
                    self._insert_new(db, "events", events, '"received_at" >= ?', [cutoff])
                if identifies:
                    self._insert_new(db, "identifies", identifies, "true", [])
                if batch.rejects:
                    db.insert_rows(
                        f"{self.schema}.{REJECTS}",
                        [c for c, _ in REJECT_TABLES[REJECTS]],
                        batch.rejects,
                        types=[t for _, t in REJECT_TABLES[REJECTS]],
                    )
        except BaseException:
            self.close()
            raise
        return len(events), len(identifies)

    def _insert_new(
        self, db: Db, table: str, rows: Sequence[tuple], window: str, params: list[Any]
    ) -> None:
        stage = _STAGE[table]
        cols = ", ".join(_names(table))
        if db.dialect == "duckdb":  # an Arrow view: 3x faster than unnesting parameters
            db.conn.register(stage + "_arrow", _arrow(table, rows))
            stage += "_arrow"
        else:
            db.execute(f"delete from {stage}")
            db.insert_rows(stage, _names(table), rows, types=_types(table))
        db.execute(
            f"insert into {self.schema}.{table} ({cols}) select {cols} from {stage} s "
            f"where not exists (select 1 from {self.schema}.{table} t "
            f"where t.message_id = s.message_id and {window})",
            params or None,
        )
        if db.dialect == "duckdb":
            db.conn.unregister(stage)


def _arrow(table: str, rows: Sequence[tuple]) -> Any:
    import pyarrow as pa

    kinds = {"varchar": pa.string(), "timestamp": pa.timestamp("us")}
    columns = list(zip(*rows, strict=True))
    return pa.table(
        {
            name: pa.array(values, type=kinds[type_])
            for (name, type_), values in zip(RAW_TABLES[table], columns, strict=True)
        }
    )


class Unavailable(Exception):
    """The batch holding a call could not be committed (answer 503, the client retries)."""


class Overloaded(Exception):
    """More calls wait than the collector accepts (answer 503 with Retry-After)."""


class Batcher:
    """Gathers calls from concurrent requests into micro-batches for one writer task."""

    def __init__(
        self,
        store: Store,
        *,
        max_calls: int = 2000,
        max_wait: float = 0.01,
        max_pending: int = 100_000,
        idle_release: float | None = 1.0,
    ):
        self.store = store
        self.max_calls = max_calls
        self.max_wait = max_wait
        self.max_pending = max_pending
        self.idle_release = idle_release
        self._batch = Batch()
        self._waiters: list[asyncio.Future[None]] = []
        self._first_at = 0.0
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._full: asyncio.Event | None = None
        self._closing = False
        self.landed_batches = 0

    async def start(self) -> None:
        self._wake, self._full = asyncio.Event(), asyncio.Event()
        # the tables exist from the start; a warehouse that is busy now is tried
        # again by the first batch (whose calls get 503 if it still is)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.store.open)
        self._task = asyncio.create_task(self._run(), name="collector-writer")

    async def stop(self) -> None:
        """Write what is gathered, then close the connection."""
        self._closing = True
        if self._wake is not None:
            self._wake.set()
            self._full.set()  # type: ignore[union-attr]
        if self._task is not None:
            await self._task
        await asyncio.to_thread(self.store.close)

    def submit(self, rows: Rows, endpoint: str, received_at: datetime) -> asyncio.Future[None]:
        """Add a request's rows to the gathering batch; the future resolves once that
        batch is committed (or fails with ``Unavailable``)."""
        if self._closing or self._task is None or self._task.done():
            raise Unavailable("the collector is shutting down")
        if self._batch.size >= self.max_pending:
            raise Overloaded(f"{self._batch.size:,} calls wait to be written")
        loop = asyncio.get_running_loop()
        if self._batch.size == 0:
            self._first_at = loop.time()
        batch = self._batch
        batch.events.extend(rows.events)
        batch.identifies.extend(rows.identifies)
        batch.rejects.extend(
            (f"rej-{uuid.uuid4()}", received_at, endpoint, mid, reason, payload)
            for mid, reason, payload in rows.rejects
        )
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.append(future)
        assert self._wake is not None and self._full is not None
        self._wake.set()
        if batch.size >= self.max_calls:
            self._full.set()
        return future

    async def _run(self) -> None:
        assert self._wake is not None and self._full is not None
        loop = asyncio.get_running_loop()
        while True:
            if not self._waiters:
                if self._closing:
                    return
                self._wake.clear()
                try:
                    timeout = self.idle_release if self.store.connected else None
                    await asyncio.wait_for(self._wake.wait(), timeout)
                except TimeoutError:
                    if self.idle_release is not None and self._release_idle():
                        await asyncio.to_thread(self.store.close)
                    continue
                continue
            while self._batch.size < self.max_calls and not self._closing:
                remaining = self._first_at + self.max_wait - loop.time()
                if remaining <= 0:
                    break
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), remaining)
            batch, waiters = self._batch, self._waiters
            self._batch, self._waiters = Batch(), []
            try:
                await asyncio.to_thread(self.store.write, batch)
            except Exception as exc:  # noqa: BLE001 - every waiter learns it, none is acked
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                for future in waiters:
                    if not future.done():
                        future.set_exception(Unavailable(reason))
            else:
                self.landed_batches += 1
                for future in waiters:
                    if not future.done():
                        future.set_result(None)

    def _release_idle(self) -> bool:
        """DuckDB only: PostgreSQL takes many writers, the connection stays."""
        db = self.store.db
        return db is not None and db.dialect == "duckdb"
