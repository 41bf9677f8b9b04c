"""Concurrent clients on localhost: every acknowledged call lands exactly once.
(Throughput is measured by benchmarks/bench_collector.py, never asserted here.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
from collect_helpers import WRITE_KEY, Collector

CLIENTS, CALLS = 4, 200


def _client(collector: Collector, n: int) -> list[str]:
    """Half the calls one by one (track and identify), half in batches of 20."""
    acked: list[str] = []
    with httpx.Client(base_url=collector.url, auth=(WRITE_KEY, ""), timeout=30) as http:
        singles = [f"load-{n}-{i}" for i in range(CALLS // 2)]
        for i, mid in enumerate(singles):
            if i % 10 == 0:
                body = {"messageId": mid, "userId": f"cus_{n}", "traits": {"i": i}}
                route = "identify"
            else:
                body = {"messageId": mid, "anonymousId": f"a-{n}", "event": "Product Viewed"}
                route = "track"
            if http.post(f"/v1/{route}", json=body).status_code == 200:
                acked.append(mid)
        rest = [f"load-{n}-{i}" for i in range(CALLS // 2, CALLS)]
        for start in range(0, len(rest), 20):
            chunk = rest[start : start + 20]
            calls = [
                {"type": "track", "messageId": m, "anonymousId": f"a-{n}", "event": "Cart Viewed"}
                for m in chunk
            ]
            if http.post("/v1/batch", json={"batch": calls}).status_code == 200:
                acked.extend(chunk)
    return acked


def test_concurrent_clients_land_every_acknowledged_call_once(collector: Collector) -> None:
    with ThreadPoolExecutor(CLIENTS) as pool:
        acked = [
            m for part in pool.map(lambda n: _client(collector, n), range(CLIENTS)) for m in part
        ]
    assert len(acked) == CLIENTS * CALLS  # nothing refused or dropped on a quiet localhost
    landed = collector.query(
        "select message_id, count(*) from ("
        " select message_id from raw.events union all select message_id from raw.identifies"
        ") group by message_id"
    )
    counts = dict(landed)
    assert set(counts) == set(acked)
    assert set(counts.values()) == {1}
    # several calls shared a transaction (micro-batches, not one commit per call)
    batches = collector.http.get("/health").json()["batches"]
    assert batches < len(acked)
