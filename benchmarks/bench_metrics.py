"""How long the metric marts and the dashboard take on a generated shop.

    python benchmarks/bench_metrics.py --customers 20000 --days 90

Generates the shop into a temporary DuckDB file, builds everything the metric
marts read (untimed), then times `dbt run` of the measurement layer (its
intermediate models and every mart in marts/metrics) and the dashboard render
(read-only queries + SVG + HTML). Prints the slowest nodes, the page size and
the peak RSS of this process (the render; dbt runs in-process too).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from shop import DBT_VARS, generate_shop

from activations.dashboards import render_dashboard
from activations.warehouse import dbt

METRICS_LAYER = ["path:models/intermediate/measurement", "path:models/marts/metrics"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        counts = generate_shop(path, customers=args.customers, days=args.days)
        print(
            f"generate: {sum(counts.values()):,} raw rows ({args.customers:,} customers, "
            f"{counts['orders']:,} orders, {counts['email_events']:,} email events)"
        )
        common = {"warehouse": path, "vars": DBT_VARS, "target_path": Path(tmp) / "target"}
        dbt.run_dbt(
            "build",
            select=[f"+{s}" for s in METRICS_LAYER],
            exclude=["test_type:data", "test_type:unit", *METRICS_LAYER],
            quiet=True,
            **common,
        )
        started = time.perf_counter()
        run = dbt.run_dbt("run", select=METRICS_LAYER, quiet=True, **common)
        seconds = time.perf_counter() - started
        print(f"dbt run of the metrics layer: {len(run.nodes)} models in {seconds:.1f}s")
        for node in sorted(run.nodes, key=lambda n: -n.seconds)[:6]:
            print(f"  {node.seconds:6.2f}s  {node.name}")
        started = time.perf_counter()
        page = render_dashboard(path, Path(tmp) / "dashboard.html")
        seconds = time.perf_counter() - started
        print(f"dashboard render: {seconds:.2f}s, {page.stat().st_size / 1024:.0f} KiB")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {peak:.0f} MiB")


if __name__ == "__main__":
    main()
