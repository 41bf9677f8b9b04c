"""How long the audiences and the contact policy take to build on a generated shop.

    python benchmarks/bench_audiences.py --customers 20000 --days 60

Generates the shop into a temporary DuckDB file, builds everything the audiences
read (untimed), then times `dbt run` of the contact policy, every audience's
candidates and the 13 audience marts. Prints the slowest nodes, the total, and
each audience's size and sendable part.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
from shop import DBT_VARS, generate_shop

from activations.warehouse import dbt

AUDIENCE_LAYER = [
    "path:models/intermediate/contact_policy",
    "path:models/intermediate/marketing",
    "path:models/marts/audiences",
    "contact_policy",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-audiences-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        counts = generate_shop(path, customers=args.customers, days=args.days)
        print(f"generate: {sum(counts.values()):,} raw rows ({args.customers:,} customers)")
        common = {"warehouse": path, "vars": DBT_VARS, "target_path": Path(tmp) / "target"}
        dbt.run_dbt(
            "build",
            select=[f"+{s}" for s in AUDIENCE_LAYER],
            exclude=["test_type:data", "test_type:unit"],
            quiet=True,
            **common,
        )
        started = time.perf_counter()
        run = dbt.run_dbt("run", select=AUDIENCE_LAYER, quiet=True, **common)
        seconds = time.perf_counter() - started
        print(f"dbt run of the audience layer: {len(run.nodes)} models in {seconds:.1f}s")
        for node in sorted(run.nodes, key=lambda n: -n.seconds)[:8]:
            print(f"  {node.name:<40} {node.seconds:6.2f}s")
        con = duckdb.connect(str(path), read_only=True)
        try:
            tables = con.execute(
                "select table_name from information_schema.tables"
                " where table_schema = 'audiences' order by 1"
            ).fetchall()
            for (table,) in tables:
                rows, sendable = con.execute(
                    f"select count(*), count(*) filter (where is_sendable) from audiences.{table}"
                ).fetchone()
                print(f"  {table:<24} {rows:>8,} rows {sendable:>8,} sendable")
        finally:
            con.close()


if __name__ == "__main__":
    main()
