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
from datetime import datetime
from pathlib import Path

import duckdb

from activations import dbt
from activations.generator import generate
from activations.raw_schema import create_raw_schema_sql

FOUNDATION = ["path:models/staging", "path:models/intermediate/identity", "customers", "orders"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--whole", action="store_true", help="also build the whole project")
    args = parser.parse_args()
    end = datetime(2026, 6, 30, 12)
    with tempfile.TemporaryDirectory(prefix="bench-dbt-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        con = duckdb.connect(str(path))
        for statement in create_raw_schema_sql():
            con.execute(statement)
        started = time.perf_counter()
        counts = generate(con, customers=args.customers, days=args.days, seed=7, end=end)
        con.close()
        seconds = time.perf_counter() - started
        print(f"generate: {sum(counts.values()):,} raw rows in {seconds:.1f}s")
        steps = [("foundation", FOUNDATION)] + ([("whole project", [])] if args.whole else [])
        for label, select in steps:
            started = time.perf_counter()
            run = dbt.build(
                warehouse=path,
                select=select,
                vars={"as_of": end.strftime("%Y-%m-%d %H:%M:%S")},
                target_path=Path(tmp) / "target",
                extra_args=["--indirect-selection", "buildable"],
                quiet=True,
            )
            seconds = time.perf_counter() - started
            print(f"dbt build {label}: {len(run.nodes)} nodes {run.by_status()} in {seconds:.1f}s")
        print(f"warehouse file: {path.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
