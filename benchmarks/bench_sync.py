"""Sync 100k rows to the local webhook sink (uvicorn on loopback): first sync,
then a resync after 1% of the rows changed. Compare with docs/peers.md (drt:
6.5 s first sync and 7.3 s resync in batches of 1,000, resending everything).

Each run also times a bare batch sender against the same sink process: read the
rows from DuckDB, encode and sign 1,000 per POST, send them one after the other,
keep no state. That is the floor the sink and this machine allow right now; the
first sync is reported as a multiple of it.

And drt-core, the open-source peer (drt_peer.py: installed into a throwaway
venv on first use, skipped with the reason when it cannot be), syncs the same
table to the same sink process, first sync and after the same 1% change; the
ratios drt / ours are printed.

    python benchmarks/bench_sync.py [--rows 100000] [--repeat 3] [--no-drt]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
from drt_peer import ensure_drt, run_drt, write_project

from activations.providers.webhook.connector import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from activations.sync.engine import run
from activations.sync.specs import SyncSpec

SECRET = "bench-secret-0123456789"


@contextlib.contextmanager
def sink_process(log: Path) -> Iterator[str]:
    """The sink in its own process (as a real receiver would be), on a free port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "activations.sandbox.webhook_sink",
            "--port",
            str(port),
            "--log",
            str(log),
            "--accept-unsigned",
            "/drt",  # drt-core cannot sign (drt_peer.py)
        ],
        env={**os.environ, "WEBHOOK_SECRET": SECRET},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def bare_sender(con: duckdb.DuckDBPyConnection, sink_url: str, batch: int = 1000) -> float:
    """Seconds to read the audience and POST it, ``batch`` records a request,
    signed, sequentially, with no plan, no state and no retries."""
    started = time.perf_counter()
    rows = con.execute(
        "select person_id, lower(trim(email)), cast(cart_value as varchar), cart_items "
        "from audiences.carts"
    ).fetchall()
    with httpx.Client(base_url=sink_url) as client:
        for start in range(0, len(rows), batch):
            records = [
                {"key": k, "email": e, "fields": {"value": v, "items": i}}
                for k, e, v, i in rows[start : start + batch]
            ]
            body = json.dumps(
                {"destination": "/bare", "operation": "upsert", "records": records}
            ).encode()
            stamp = str(int(time.time()))
            response = client.post(
                "/bare",
                content=body,
                headers={
                    "Content-Type": "application/json",
                    TIMESTAMP_HEADER: stamp,
                    SIGNATURE_HEADER: sign(SECRET, stamp, body),
                },
            )
            response.raise_for_status()
    return time.perf_counter() - started


@dataclass
class Once:
    first: float
    second: float
    bare: float
    requests: int
    resent: int
    min_by_records: int
    min_by_bytes: int
    drt_first: float | None = None
    drt_second: float | None = None


def minimum_requests(con: duckdb.DuckDBPyConnection, max_records: int, max_bytes: int):
    """The fewest requests the webhook's record and byte limits allow for the
    whole audience: by records, and by the bytes of its records as encoded."""
    rows = con.execute(
        "select person_id, lower(trim(email)), cast(cart_value as varchar), cart_items "
        "from audiences.carts"
    ).fetchall()
    size = sum(
        len(json.dumps({"key": k, "email": e, "fields": {"value": v, "items": i}})) + 1
        for k, e, v, i in rows
    )
    return math.ceil(len(rows) / max_records), math.ceil(size / max_bytes)


def once(n: int, tmp: Path, drt: Path | None) -> Once:
    path = tmp / f"bench-{time.monotonic_ns()}.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema audiences")
    con.execute(
        f"""create table audiences.carts as select 'p' || i as person_id,
            'p' || i || '@example.com' as email, timestamp '2026-01-01' as entered_at,
            'carts' as audience, true as is_sendable, null::varchar as suppression_reason,
            false as is_control, cast(i % 1000 as decimal(12, 2)) as cart_value,
            '["sku-' || (i % 50) || '"]' as cart_items
        from range({n}) t(i)"""
    )
    change = (
        "update audiences.carts set cart_value = cart_value + 1 where hash(person_id) % 100 = 0"
    )
    with sink_process(tmp / f"sink-{time.monotonic_ns()}.jsonl") as sink_url:
        spec = SyncSpec.model_validate(
            {
                "name": "bench",
                "audience": "carts",
                "provider": "webhook",
                "destination": "/hooks/carts",
                "mode": "mirror",
                "fields": {"value": "cart_value", "items": "cart_items"},
                "credentials": {
                    "api_key_env": "S",
                    "base_url_env": "U",
                    "options": {"max_records": 1000, "concurrency": 2},
                },
            }
        )
        env = {"S": SECRET, "U": sink_url}
        by_records, by_bytes = minimum_requests(con, 1000, 5_000_000)
        bare_s = bare_sender(con, sink_url)
        started = time.perf_counter()
        first = run(spec, con, env=env)
        first_s = time.perf_counter() - started
        con.execute(change)
        started = time.perf_counter()
        second = run(spec, con, env=env)
        second_s = time.perf_counter() - started
        con.close()
        result = Once(
            first_s, second_s, bare_s, first.requests, second.confirmed, by_records, by_bytes
        )
        if drt is not None:  # the same table (same size), the same sink process
            project = write_project(tmp / f"drt-{time.monotonic_ns()}", path, sink_url)
            result.drt_first = run_drt(drt, project)
            with duckdb.connect(str(path)) as con:
                con.execute(change)
            result.drt_second = run_drt(drt, project)
    assert first.confirmed == n and second.status == "succeeded"
    assert first.plan is not None
    peer = (
        f"; drt-core first {result.drt_first:.2f}s ({result.drt_first / first_s:.1f}x ours), "
        f"resync {result.drt_second:.2f}s ({result.drt_second / second_s:.0f}x ours)"
        if result.drt_first is not None and result.drt_second is not None
        else ""
    )
    print(
        f"  bare sender {bare_s:.2f}s; first sync {first_s:.2f}s (plan {first.plan.seconds:.2f}s, "
        f"{first_s / bare_s:.2f}x the bare sender, {first.requests} requests), "
        f"resync {second_s:.2f}s ({second_s / first_s:.3f} of the first){peer}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-drt", action="store_true", help="skip the drt-core comparison")
    args = parser.parse_args()
    drt = None
    if not args.no_drt:
        drt, why = ensure_drt()
        if drt is None:
            print(f"drt-core comparison skipped: {why}", flush=True)
    results: list[Once] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            results.append(once(args.rows, Path(tmp), drt))
    med = statistics.median
    r0 = results[0]
    first, second, bare = (
        med(r.first for r in results),
        med(r.second for r in results),
        med(r.bare for r in results),
    )
    print(
        f"{args.rows:,} rows to the webhook sink, medians of {args.repeat} runs: "
        f"first sync {first:.2f}s, 1% resync {second:.2f}s ({r0.resent:,} records), "
        f"bare sender {bare:.2f}s"
    )
    print(
        f"  first sync / bare sender {med(r.first / r.bare for r in results):.2f}x "
        f"(target <= 1.5); resync / first sync "
        f"{med(r.second / r.first for r in results):.3f} (target <= 0.05)"
    )
    print(
        f"  requests of the first sync {r0.requests}; the minimum the limits allow: "
        f"{r0.min_by_records} by records (1,000 a request), {r0.min_by_bytes} by bytes (5 MB)"
    )
    peers = [r for r in results if r.drt_first is not None and r.drt_second is not None]
    if peers:
        print(
            f"  drt-core 1.2.1 (batches of 1,000, mode full, process start to exit): first sync "
            f"{med(r.drt_first for r in peers):.2f}s, "
            f"resync {med(r.drt_second for r in peers):.2f}s; "
            f"drt / ours: first {med(r.drt_first / r.first for r in peers):.1f}x (target >= 2), "
            f"resync {med(r.drt_second / r.second for r in peers):.0f}x (target >= 20)"
        )


if __name__ == "__main__":
    main()
