"""How long historical imports take: the full UCI Online Retail file (541,909
lines) and CDNOW master (69,659 lines) into a fresh DuckDB file, then the same
file again (skipped: already imported) and forced (replaced by natural key).

    .venv/bin/python benchmarks/bench_import.py [--runs 3]

Prints the median wall time of each step and the process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from activations.imports import ImportResult, import_orders
from activations.paths import PROJECT_ROOT

# the full datasets: the tests' one setting (tests/dataset_paths.py; `make data` fetches them)
DATASETS = Path(
    os.environ.get("ACTIVATIONS_DATASETS")
    or next((p for p in (PROJECT_ROOT / ".datasets",) if p.is_dir()),
            PROJECT_ROOT.parent / "shared" / "datasets")
)
FILES = {
    "online-retail": DATASETS / "uci-online-retail" / "online_retail.parquet",
    "cdnow": DATASETS / "cdnow" / "CDNOW_master.txt",
}


def timed(path: Path, fmt: str, warehouse: Path, force: bool = False) -> tuple[float, ImportResult]:
    start = time.perf_counter()
    result = import_orders(path, fmt, warehouse=warehouse, force=force)
    return time.perf_counter() - start, result


def bench(fmt: str, path: Path, runs: int) -> dict[str, float | int]:
    fresh, again, forced = [], [], []
    lines = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
            warehouse = Path(tmp) / "w.duckdb"
            seconds, result = timed(path, fmt, warehouse)
            fresh.append(seconds)
            lines = result.rows_read
            again.append(timed(path, fmt, warehouse)[0])
            forced.append(timed(path, fmt, warehouse, force=True)[0])
            con = duckdb.connect(str(warehouse), read_only=True)
            orders = con.execute("select count(*) from raw.orders").fetchall()[0][0]
            con.close()
            assert orders == result.orders, "a forced re-import must not add orders"
    first = statistics.median(fresh)
    return {
        "lines": lines,
        "first import s": first,
        "lines per s": lines / first,
        "same file again s": statistics.median(again),
        "forced re-import s": statistics.median(forced),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.processor() or '?'}, python "
        f"{platform.python_version()}, duckdb {duckdb.__version__}; median of {args.runs} runs"
    )
    for fmt, path in FILES.items():
        if not path.exists():
            print(f"{fmt}: {path} missing, skipped")
            continue
        numbers = bench(fmt, path, args.runs)
        print(
            f"{fmt:14} {numbers['lines']:>8,} lines  first {numbers['first import s']:6.2f} s "
            f"({numbers['lines per s']:,.0f} lines/s)  again {numbers['same file again s']:5.2f} s"
            f"  forced {numbers['forced re-import s']:6.2f} s"
        )
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS) of this process: {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main()
