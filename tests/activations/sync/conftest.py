"""Shared helpers for the sync engine tests: audience tables of the shared
shape in throwaway DuckDB files, declarations written to tmp files, the
webhook sink on a loopback port, and an in-memory destination."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pytest

from activations.contract.records import DeliveryReport, Limits, Outcome, Record, TransientError
from activations.sandbox.webhook_sink import SinkServer
from activations.sync.specs import SyncSpec, parse_file

SECRET = "whsec-test-4f9a8b7c6d5e"


def make_audience(con: Any, rows: Sequence[dict[str, Any]], table: str = "carts") -> None:
    """(Re)create audiences.<table> with the shared leading columns."""
    con.execute("create schema if not exists audiences")
    con.execute(f"drop table if exists audiences.{table}")
    con.execute(
        f"""create table audiences.{table} (
            person_id varchar, email varchar, entered_at timestamp, audience varchar,
            is_sendable boolean, suppression_reason varchar, is_control boolean,
            cart_value decimal(12, 2), cart_items varchar)"""
    )
    if rows:
        con.executemany(
            f"insert into audiences.{table} "
            "values (?, ?, timestamp '2026-01-01', ?, ?, ?, false, ?, ?)",
            [
                [
                    r["person_id"],
                    r.get("email", f" {r['person_id'].upper()}@Example.com "),
                    table,
                    r.get("is_sendable", True),
                    r.get("suppression_reason"),
                    r.get("cart_value", 10),
                    r.get("cart_items", '["sku-1"]'),
                ]
                for r in rows
            ],
        )


def people(n: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"person_id": f"p{i:05d}", "cart_value": i % 97, **extra} for i in range(start, start + n)
    ]


def write_spec(tmp_path: Path, body: str, name: str = "syncs.yml") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


def webhook_spec(
    tmp_path: Path, mode: str = "mirror", extra: str = "", options: str = ""
) -> SyncSpec:
    path = write_spec(
        tmp_path,
        f"""syncs:
  - name: carts_hook
    audience: carts
    provider: webhook
    destination: /hooks/carts
    mode: {mode}
    fields:
      value: cart_value
      items: cart_items
{extra}    credentials:
      api_key_env: HOOK_SECRET
      base_url_env: HOOK_URL
      options: {{max_records: 50{options}}}
""",
    )
    return parse_file(path)[0]


@pytest.fixture()
def db(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    yield con
    con.close()


@pytest.fixture()
def sink(tmp_path: Path) -> Iterator[SinkServer]:
    with SinkServer(SECRET, tmp_path / "sink.jsonl") as server:
        yield server


def sink_env(sink: SinkServer) -> dict[str, str]:
    return {"HOOK_SECRET": SECRET, "HOOK_URL": sink.url}


class Crash(BaseException):
    """Stands for the process dying mid-run (not an Exception: nothing catches it)."""


class MemoryDestination:
    """A destination held in memory that really applies what it confirms, and
    can be told to reject keys, fail requests transiently or "crash" after a
    number of requests (the process dies after the destination applied the
    batch but before the engine heard back)."""

    name = "memory"

    def __init__(self, max_records: int = 7) -> None:
        self.limits = Limits(max_records=max_records, concurrency=1)
        self.report = DeliveryReport()
        self.members: dict[str, str] = {}  # key -> hash
        self.events: list[str] = []  # idempotency keys received
        self.received: list[tuple[str, str]] = []  # (operation, key), every delivery
        self.reject: set[str] = set()
        self.crash_after: int | None = None
        self.fail_next: int = 0
        self.requests = 0
        self.last_batch: set[str] = set()

    def record_size(self, record: Record) -> int:
        return 1

    def _apply(self, op: str, batch: Sequence[Record]) -> list[Outcome]:
        self.requests += 1
        self.report.requests += 1
        if self.fail_next:
            self.fail_next -= 1
            raise TransientError("503 from memory destination")
        out = []
        self.last_batch = {r.key for r in batch}
        for r in batch:
            self.received.append((op, r.key))
            if r.key in self.reject:
                out.append(Outcome(r.key, "rejected", reason="invalid attribute"))
                continue
            if op == "remove":
                self.members.pop(r.key, None)
            elif op == "event":
                if r.idempotency_key not in self.events:
                    self.events.append(r.idempotency_key)
            else:
                self.members[r.key] = r.hash
            out.append(Outcome(r.key, "confirmed", destination_id="m-" + r.key))
        if self.crash_after is not None and self.requests >= self.crash_after:
            self.crash_after = None
            raise Crash()
        return out

    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        return self._apply("upsert", batch)

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        return self._apply("remove", batch)

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        return self._apply("event", batch)


def table_digest(con: Any) -> dict[str, str]:
    """A checksum of the full, ordered contents of every table in the file."""
    out = {}
    for schema, table in con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' order by 1, 2"
    ).fetchall():
        rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
        text = "\n".join(sorted(repr(r) for r in rows))
        out[f"{schema}.{table}"] = hashlib.sha256(text.encode()).hexdigest()
    return out
