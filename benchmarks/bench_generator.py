"""How fast the synthetic shop generator fills a fresh DuckDB file, and how much memory it takes.

    .venv/bin/python benchmarks/bench_generator.py --customers 100000 --days 90

Prints rows per table, total rows per second, seconds per chunk, the process's
peak resident memory and the size of the warehouse file. Memory is bounded by
the chunk size (``--chunk-customers``), not by the number of customers.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path

from activations.generator import generate
from activations.generator.generate import effective_chunk


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--chunk-customers", type=int, default=50_000)
    parser.add_argument("--warehouse", type=Path, default=None, help="default: a temporary file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_generator_") as tmp:
        target = args.warehouse or Path(tmp) / "shop.duckdb"
        chunk_times: list[float] = []
        last = time.perf_counter()

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.perf_counter()
            chunk_times.append(now - last)
            last = now
            print(f"  {done:>10,} / {total:,} customers  {chunk_times[-1]:6.1f} s", flush=True)

        print(
            f"generator: {args.customers:,} customers x {args.days} days, seed {args.seed}, "
            f"chunks of {effective_chunk(args.chunk_customers, args.days):,}"
        )
        started = time.perf_counter()
        counts = generate(
            target,
            customers=args.customers,
            days=args.days,
            seed=args.seed,
            end=datetime(2026, 11, 23, 12),
            chunk_customers=args.chunk_customers,
            progress=progress,
        )
        elapsed = time.perf_counter() - started
        total = sum(counts.values())
        size_mb = os.path.getsize(target) / 2**20
        for table, n in counts.items():
            print(f"  {table:<14}{n:>14,}")
        print(f"  {'total rows':<14}{total:>14,}")
        print(f"wall time        {elapsed:8.1f} s (commit and counts included)")
        print(f"rows per second  {total / elapsed:12,.0f}")
        print(f"events per s     {counts['events'] / elapsed:12,.0f}")
        print(f"peak RSS         {peak_rss_mb():8.0f} MiB")
        print(f"warehouse file   {size_mb:8.0f} MiB")
        machine = f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}"
        print(f"machine          {machine}")


if __name__ == "__main__":
    main()
