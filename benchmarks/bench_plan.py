"""Plan a 1M-record audience with 1% changes: plan time and peak RSS.

    python benchmarks/bench_plan.py [--rows 1000000] [--repeat 3]

The first run's state is written directly (as if a sync had confirmed every
record), then 1% of the rows change; the plan of the second snapshot is
timed. Medians of --repeat runs are printed.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from activations.sync.plan import drop, plan
from activations.sync.specs import SyncSpec
from activations.sync.state import ensure_schema
from activations.warehouse.db import Db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.rows
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "bench.duckdb"))
        con.execute("create schema audiences")
        con.execute(
            f"""create table audiences.carts as select 'p' || i as person_id,
                'p' || i || '@example.com' as email, timestamp '2026-01-01' as entered_at,
                'carts' as audience, true as is_sendable, null::varchar as suppression_reason,
                false as is_control, cast(i % 1000 as decimal(12, 2)) as cart_value,
                '["sku-' || (i % 50) || '"]' as cart_items
            from range({n}) t(i)"""
        )
        spec = SyncSpec(
            name="bench",
            audience="carts",
            provider="webhook",
            destination="/x",
            mode="mirror",
            fields={"value": "cart_value", "items": "cart_items"},
        )
        db = Db(con)
        ensure_schema(db)
        p = plan(spec, db)  # everything added: write it as confirmed state
        con.execute(
            f"""insert into activations.sync_state select 'bench', record_key, record_hash, null,
                email, now(), now(), 'seed' from {p.table}"""
        )
        drop(db, p)
        con.execute(
            "update audiences.carts set cart_value = cart_value + 1 where hash(person_id) % 100 = 0"
        )
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            p = plan(spec, db)
            times.append(time.perf_counter() - started)
            changed = p.changed
            drop(db, p)
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"plan {n:,} rows, {changed:,} changed ({changed / n:.1%}): "
            f"median {statistics.median(times):.2f}s over {args.repeat} runs "
            f"(min {min(times):.2f}s); peak RSS {rss_mb:.0f} MB"
        )


if __name__ == "__main__":
    main()
