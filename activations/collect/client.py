"""Sending Segment calls to a collector, as a site's or app's library would:
``/v1/batch`` requests cut to the collector's limits (500 KB, 2,500 calls),
HTTP Basic auth with the write key, retried with backoff on 5xx, 429 and
dropped connections (safe: every call carries its ``messageId``).

Used by ``activations generate --via-collector`` (``generate_via_collector``),
the demo (``send_sample``), the tests and the benchmark.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from activations.collect.segment import MAX_BATCH_BYTES, MAX_BATCH_CALLS
from activations.errors import UserError

BATCH_BYTES = MAX_BATCH_BYTES - 4096  # room for the envelope
RETRYABLE = {429, 500, 502, 503, 504}


@dataclass
class SendReport:
    acknowledged: int = 0  # calls answered 200 (landed)
    refused: int = 0  # calls the collector refused (400), kept in its rejects table
    requests: int = 0
    retries: int = 0
    reasons: list[str] = field(default_factory=list)


def iso(moment: datetime) -> str:
    """Naive UTC as Segment's ISO 8601 with a Z."""
    return moment.isoformat(timespec="milliseconds") + "Z"


def batches(
    calls: Iterable[dict[str, Any]], max_calls: int = 500, max_bytes: int = BATCH_BYTES
) -> Iterator[list[str]]:
    """Calls serialised and grouped into batches within the byte and count limits."""
    current: list[str] = []
    size = 0
    for call in calls:
        text = json.dumps(call, separators=(",", ":"), ensure_ascii=False)
        n = len(text.encode()) + 1
        if current and (len(current) >= min(max_calls, MAX_BATCH_CALLS) or size + n > max_bytes):
            yield current
            current, size = [], 0
        current.append(text)
        size += n
    if current:
        yield current


class Sender:
    """One HTTP client, thread-safe, posting batches with retries."""

    def __init__(self, url: str, write_key: str, *, attempts: int = 8, timeout: float = 30.0):
        self.url = url.rstrip("/")
        self.attempts = attempts
        self.client = httpx.Client(
            auth=(write_key, ""),
            timeout=timeout,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
        )
        self.report = SendReport()
        self._lock = threading.Lock()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def post_batch(self, texts: list[str], *, sent_at: bool = True) -> None:
        """POST one ``/v1/batch`` until it is answered (200 or 400)."""
        head = '{"sentAt":"' + iso(_now()) + '",' if sent_at else "{"
        body = (head + '"batch":[' + ",".join(texts) + "]}").encode()
        retries = 0
        for attempt in range(self.attempts):
            try:
                answer = self.client.post(
                    f"{self.url}/v1/batch",
                    content=body,
                    headers={"content-type": "application/json"},
                )
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if answer.status_code == 200:
                    self._count(len(texts), 0, retries)
                    return
                if answer.status_code == 401:
                    raise UserError(
                        f"the collector at {self.url} refused the write key",
                        hint="pass the key the collector was started with (--write-key)",
                    )
                if answer.status_code == 400:
                    data = _json(answer)
                    refused = len(data.get("refused", [])) or len(texts)
                    self._count(len(texts) - refused, refused, retries, data.get("message"))
                    return
                if answer.status_code not in RETRYABLE:
                    raise UserError(
                        f"the collector at {self.url} answered {answer.status_code}: "
                        f"{answer.text[:200]}"
                    )
                problem = f"{answer.status_code} {answer.text[:200]}"
            retries += 1
            if attempt + 1 < self.attempts:
                time.sleep(min(8.0, 0.2 * 2**attempt) * (0.5 + random.random()))
        raise UserError(
            f"the collector at {self.url} did not take a batch after {self.attempts} attempts: "
            f"{problem}",
            hint="check that `activations collect serve` runs and the warehouse is free",
        )

    def _count(self, ok: int, refused: int, retries: int, reason: str | None = None) -> None:
        with self._lock:
            self.report.acknowledged += ok
            self.report.refused += refused
            self.report.requests += 1
            self.report.retries += retries
            if reason and len(self.report.reasons) < 10:
                self.report.reasons.append(reason)


def send_calls(
    url: str,
    write_key: str,
    calls: Iterable[dict[str, Any]],
    *,
    threads: int = 4,
    batch_calls: int = 500,
    sent_at: bool = True,
) -> SendReport:
    """Post ``calls`` in ``/v1/batch`` requests from ``threads`` concurrent senders."""
    with Sender(url, write_key) as sender, ThreadPoolExecutor(threads) as pool:
        pending: set[Any] = set()
        for texts in batches(calls, batch_calls):
            pending.add(pool.submit(sender.post_batch, texts, sent_at=sent_at))
            if len(pending) >= threads * 2:  # bounded memory: wait for the oldest ones
                done = {f for f in pending if f.done()} or {next(iter(pending))}
                for future in done:
                    future.result()
                pending -= done
        for future in pending:
            future.result()
        return sender.report


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        data = answer.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ---------------------------------------------------------------- the demo's sample


def sample_calls(calls: int = 200, *, seed: int = 0) -> list[dict[str, Any]]:
    """Page views of anonymous visitors on the shop, timed over the last minutes
    (they join no audience: they show live calls landing)."""
    rng = random.Random(seed)
    visitors = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(max(1, calls // 5))]
    paths = ["/", "/help", "/cart", "/c/coffee", "/c/pet-food", "/c/kitchen", "/offers"]
    now = _now()
    out = []
    for i in range(calls):
        path = rng.choice(paths)
        out.append(
            {
                "type": "page",
                "messageId": f"sample-{seed}-{i:06d}-{uuid.UUID(int=rng.getrandbits(128))}",
                "anonymousId": rng.choice(visitors),
                "name": path.strip("/") or "home",
                "properties": {"path": path, "url": f"https://shop.example{path}"},
                "context": {"library": {"name": "activations.collect.client", "version": "1"}},
                "timestamp": iso(now - timedelta(seconds=rng.randint(0, 900))),
            }
        )
    return out


def send_sample(url: str, write_key: str, *, calls: int = 200, seed: int = 0) -> SendReport:
    """Send ``calls`` page views (``/v1/batch``) to the collector at ``url``."""
    return send_calls(url, write_key, sample_calls(calls, seed=seed), threads=2, batch_calls=50)


# ---------------------------------------------------------------- the generator, via the collector


def generated_calls(con: Any) -> Iterator[dict[str, Any]]:
    """``raw.events`` and ``raw.identifies`` of a generated shop (a DuckDB
    connection) as Segment track and identify calls, in time order."""
    result = con.execute(
        """
        select 'track', message_id, anonymous_id, user_id, event, properties, context,
               "timestamp"
        from raw.events
        union all
        select 'identify', message_id, anonymous_id, user_id, null, traits, null, "timestamp"
        from raw.identifies
        order by 8, 2"""
    )
    while rows := result.fetchmany(10_000):
        for kind, mid, anonymous_id, user_id, event, payload, context, moment in rows:
            call: dict[str, Any] = {"type": kind, "messageId": mid, "timestamp": iso(moment)}
            if anonymous_id is not None:
                call["anonymousId"] = anonymous_id
            if user_id is not None:
                call["userId"] = user_id
            if kind == "track":
                call["event"] = event
                call["properties"] = json.loads(payload) if payload else {}
                call["context"] = json.loads(context) if context else {}
            else:
                call["traits"] = json.loads(payload) if payload else {}
            yield call


def generate_via_collector(
    url: str,
    write_key: str,
    warehouse: Path | str,
    *,
    threads: int = 4,
    **generate_args: Any,
) -> tuple[dict[str, int], SendReport]:
    """``activations generate --via-collector``: the shop is simulated in memory;
    its own tables (customers, orders, ...) replace the warehouse's directly, and
    its track and identify calls go through the collector at ``url`` (sent
    without ``sentAt``: historical calls keep their timestamps; ``received_at``
    is when the collector took them). Returns the direct tables' row counts and
    what the collector acknowledged."""
    import duckdb

    from activations.generator import generate
    from activations.warehouse.raw_schema import RAW_SCHEMA, RAW_TABLES, create_raw_schema_sql

    memory = duckdb.connect()
    try:
        for statement in create_raw_schema_sql():
            memory.execute(statement)
        counts = dict(generate(memory, **generate_args))
        target = _open_warehouse(warehouse)
        try:
            target.execute("begin transaction")
            for table in RAW_TABLES:
                target.execute(f"drop table if exists {RAW_SCHEMA}.{table}")
            for statement in create_raw_schema_sql():
                target.execute(statement)
            for table in RAW_TABLES:
                if table in ("events", "identifies"):
                    continue
                frame = memory.sql(f"select * from {RAW_SCHEMA}.{table}").to_arrow_table()
                target.register("collector_frame", frame)
                target.execute(f"insert into {RAW_SCHEMA}.{table} select * from collector_frame")
                target.unregister("collector_frame")
            target.execute("commit")
        finally:
            target.close()
        report = send_calls(url, write_key, generated_calls(memory), threads=threads, sent_at=False)
    finally:
        memory.close()
    direct = {t: n for t, n in counts.items() if t not in ("events", "identifies")}
    return direct, report


def _open_warehouse(warehouse: Path | str, wait: float = 15.0) -> Any:
    """The warehouse file, waiting a little while a collector releases it (it
    closes its connection after a second without calls)."""
    from activations.warehouse.connections import connect_duckdb

    deadline = time.monotonic() + wait
    while True:
        try:
            return connect_duckdb(warehouse)
        except UserError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
