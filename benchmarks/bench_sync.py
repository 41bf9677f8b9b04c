"""Sync 100k rows to the local webhook sink (uvicorn on loopback): first sync,
then a resync after 1% of the rows changed. Compare with docs/peers.md (drt:
6.5 s first sync and 7.3 s resync in batches of 1,000, resending everything).

Each run also times a bare batch sender against the same sink process: read the
rows from DuckDB, encode and sign 1,000 per POST, send them one after the other,
keep no state. That is the floor the sink and this machine allow right now; the
first sync is reported as a multiple of it.

    python benchmarks/bench_sync.py [--rows 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx

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


def once(n: int, tmp: Path) -> tuple[float, float, int, int, float]:
    con = duckdb.connect(str(tmp / f"bench-{time.monotonic_ns()}.duckdb"))
    con.execute("create schema audiences")
    con.execute(
        f"""create table audiences.carts as select 'p' || i as person_id,
            'p' || i || '@example.com' as email, timestamp '2026-01-01' as entered_at,
            'carts' as audience, true as is_sendable, null::varchar as suppression_reason,
            false as is_control, cast(i % 1000 as decimal(12, 2)) as cart_value,
            '["sku-' || (i % 50) || '"]' as cart_items
        from range({n}) t(i)"""
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
        bare_s = bare_sender(con, sink_url)
        started = time.perf_counter()
        first = run(spec, con, env=env)
        first_s = time.perf_counter() - started
        con.execute(
            "update audiences.carts set cart_value = cart_value + 1 where hash(person_id) % 100 = 0"
        )
        started = time.perf_counter()
        second = run(spec, con, env=env)
        second_s = time.perf_counter() - started
    con.close()
    assert first.confirmed == n and second.status == "succeeded"
    assert first.plan is not None
    print(
        f"  bare sender {bare_s:.2f}s; first sync {first_s:.2f}s (plan {first.plan.seconds:.2f}s, "
        f"{first_s / bare_s:.1f}x the bare sender), resync {second_s:.2f}s"
    )
    return first_s, second_s, first.requests, second.confirmed, bare_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeat):
            results.append(once(args.rows, Path(tmp)))
    first = statistics.median(r[0] for r in results)
    second = statistics.median(r[1] for r in results)
    bare = statistics.median(r[4] for r in results)
    ratio = statistics.median(r[0] / r[4] for r in results)
    print(
        f"{args.rows:,} rows to the webhook sink: first sync median {first:.2f}s "
        f"({results[0][2]} requests); 1% resync median {second:.2f}s "
        f"({results[0][3]:,} records sent); bare sender median {bare:.2f}s, "
        f"first sync / bare sender median {ratio:.1f}x; over {args.repeat} runs"
    )


if __name__ == "__main__":
    main()
