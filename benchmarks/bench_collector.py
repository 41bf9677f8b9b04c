"""How many events per second the event collector lands, acknowledged only once
committed: ``activations collect serve`` runs as its own process on a free port
of 127.0.0.1 against a fresh DuckDB file; N client threads in this process
send realistic track calls (an e-commerce ``Product Viewed`` with properties
and context, ~600 bytes each) as ``/v1/batch`` requests of B calls (what
Segment's libraries do) or one call per ``/v1/track`` request (``--single``);
then the collector is stopped and the warehouse is checked: every acknowledged
call landed exactly once.

Run: ``python benchmarks/bench_collector.py --clients 8 --events 100000 --batch 100``
(``--single`` for one call per request). The clients share the machine with
the collector: on 2 vCPU their own CPU is part of what is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import duckdb
import httpx

ACTIVATIONS = Path(sys.executable).parent / "activations"
KEY = "wk_bench"


def call(i: int, client: int) -> dict:
    return {
        "type": "track",
        "messageId": f"bench-{client}-{i}-{uuid.uuid4().hex[:8]}",
        "anonymousId": f"{uuid.UUID(int=client * 1_000_003 + i % 97)}",
        "userId": f"cus_{(client * 7919 + i) % 50_000:08d}" if i % 3 else None,
        "event": "Product Viewed",
        "timestamp": "2026-12-03T10:00:00.000Z",
        "properties": {
            "product_id": f"prd_{i % 400:05d}",
            "sku": f"SKU-{i % 400:05d}",
            "name": "Arabica coffee beans 1 kg",
            "category": "food",
            "price": 14.9,
            "url": f"https://shop.example/p/prd_{i % 400:05d}",
            "image_url": f"https://shop.example/img/prd_{i % 400:05d}.jpg",
        },
        "context": {
            "page": {"url": "https://shop.example/c/coffee", "path": "/c/coffee", "referrer": ""},
            "campaign": {"source": "newsletter", "medium": "email", "name": "cmp_00012"},
            "device": {"type": "mobile"},
            "library": {"name": "analytics.js", "version": "2.11.1"},
        },
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(warehouse: Path, port: int, batch_ms: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DUCKDB_PATH": str(warehouse), "ACTIVATIONS_WRITE_KEY": KEY}
    env.pop("ACTIVATIONS_WAREHOUSE", None)
    process = subprocess.Popen(
        [str(ACTIVATIONS), "collect", "serve", "--port", str(port), "--batch-ms", str(batch_ms)],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the collector did not start")


def client(url: str, n: int, events: int, batch: int, single: bool, acked: list[str]) -> None:
    calls = [call(i, n) for i in range(events)]
    step = 1 if single else batch
    bodies = []
    for start in range(0, events, step):
        part = calls[start : start + step]
        payload = part[0] if single else {"batch": part}
        bodies.append(([c["messageId"] for c in part], json.dumps(payload).encode()))
    route = "/v1/track" if single else "/v1/batch"
    headers = {"content-type": "application/json"}
    with httpx.Client(base_url=url, auth=(KEY, ""), timeout=60) as http:
        start_gate.wait()
        for ids, body in bodies:
            answer = http.post(route, content=body, headers=headers)
            if answer.status_code == 200:
                acked.extend(ids)


start_gate = threading.Event()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--events", type=int, default=100_000, help="in total")
    parser.add_argument("--batch", type=int, default=100, help="calls per /v1/batch")
    parser.add_argument("--single", action="store_true", help="one call per /v1/track")
    parser.add_argument("--batch-ms", type=int, default=10, help="the collector's --batch-ms")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "bench.duckdb"
        port = free_port()
        collector = serve(warehouse, port, args.batch_ms)
        url = f"http://127.0.0.1:{port}"
        per_client = args.events // args.clients
        acked: list[list[str]] = [[] for _ in range(args.clients)]
        threads = [
            threading.Thread(
                target=client, args=(url, n, per_client, args.batch, args.single, acked[n])
            )
            for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # every client has built its bodies
        load_before = os.getloadavg()[0]
        cpu_before = os.times()
        started = time.perf_counter()
        start_gate.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu = os.times()
        batches = httpx.get(f"{url}/health").json()["batches"]
        collector.send_signal(signal.SIGTERM)
        collector.wait(timeout=60)

        ids = [m for part in acked for m in part]
        con = duckdb.connect(str(warehouse), read_only=True)
        landed, distinct = con.execute(
            "select count(*), count(distinct message_id) from raw.events"
        ).fetchall()[0]
        con.close()
        mode = "one call per /v1/track" if args.single else f"/v1/batch of {args.batch}"
        print(
            f"{args.clients} clients, {len(ids):,} events acknowledged ({mode}) in "
            f"{elapsed:.2f} s: {len(ids) / elapsed:,.0f} events/s; "
            f"{batches:,} warehouse transactions ({len(ids) / max(batches, 1):,.0f} calls each); "
            f"client CPU {cpu.user - cpu_before.user + cpu.system - cpu_before.system:.1f} s; "
            f"load average {load_before:.1f}"
        )
        ok = landed == distinct == len(ids) == len(set(ids))
        print(f"exactly once: {'yes' if ok else 'NO'} ({landed:,} rows, {distinct:,} distinct)")
        if not ok:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
