"""How long `dbt build` takes on a generated shop, foundation and whole project.

    python benchmarks/bench_dbt_build.py --customers 5000 --days 60

Generates the shop into a temporary DuckDB file, then times `dbt build` of the
foundation (staging, identity stitching, core marts: models and their tests)
and of the whole project. Prints one line per step with rows and seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from shop import DBT_VARS, generate_shop

from activations.warehouse import dbt

FOUNDATION = ["path:models/staging", "path:models/intermediate/identity", "customers", "orders"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--whole", action="store_true", help="also build the whole project")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        started = time.perf_counter()
        counts = generate_shop(path, customers=args.customers, days=args.days)
        seconds = time.perf_counter() - started
        print(f"generate: {sum(counts.values()):,} raw rows in {seconds:.1f}s")
        steps = [("foundation", FOUNDATION)] + ([("whole project", [])] if args.whole else [])
        for label, select in steps:
            started = time.perf_counter()
            run = dbt.build(
                warehouse=path,
                select=select,
                vars=DBT_VARS,
                target_path=Path(tmp) / "target",
                extra_args=["--indirect-selection", "buildable"],
                quiet=True,
            )
            seconds = time.perf_counter() - started
            print(f"dbt build {label}: {len(run.nodes)} nodes {run.by_status()} in {seconds:.1f}s")
        print(f"warehouse file: {path.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
