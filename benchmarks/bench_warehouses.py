"""The small tier on each warehouse: how long one dbt build of the models takes
on DuckDB, PostgreSQL and Apache Spark, for the same generated shop.

    python benchmarks/bench_warehouses.py --customers 300 --days 60

The shop is generated once into a DuckDB file; then models and seeds (no data
or unit tests: what the parity test builds) are built on DuckDB, on a
throwaway PostgreSQL server (initdb/pg_ctl, when installed) with the same raw
rows, and on a local Spark session (dbt-spark `session`, when `make
spark-install` ran; raw tables loaded as parquet first, timed apart). A
warehouse that cannot run here says why and is skipped. One line per
warehouse: seconds, and for Spark the JVM start and raw load apart.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shop import DBT_VARS, generate_shop

from activations.warehouse import dbt
from activations.warehouse import spark as spark_wh

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.conftest helpers


@contextmanager
def postgres(root: Path) -> Iterator[dict[str, str] | None]:
    """A throwaway PostgreSQL server (database ``warehouse``): its PG* env, or
    None when PostgreSQL is not installed."""
    from tests.conftest import _free_port, _postgres_os_user

    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        yield None
        return
    import psycopg

    as_user = _postgres_os_user()
    root.mkdir(parents=True, exist_ok=True)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if as_user:
        for path in (root, sock):
            os.chown(path, as_user["user"], as_user["group"])
    subprocess.run(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"],
        check=True, capture_output=True, **as_user,
    )  # fmt: skip
    port = _free_port()
    options = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [pg_ctl, "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start"],
        check=True, capture_output=True, **as_user,
    )  # fmt: skip
    try:
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
        ) as admin:
            admin.execute("create database warehouse")
        yield {
            "PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": "postgres",
            "PGPASSWORD": "", "PGDATABASE": "warehouse", "DBT_TARGET": "postgres",
        }  # fmt: skip
    finally:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True, **as_user,
        )  # fmt: skip


def _build(label: str, **kwargs) -> float:
    started = time.perf_counter()
    run = dbt.run_dbt("build", vars=DBT_VARS, extra_args=spark_wh.MODELS_ONLY, quiet=True, **kwargs)
    seconds = time.perf_counter() - started
    print(f"{label}: dbt build (models, seeds) {len(run.nodes)} nodes in {seconds:.1f}s")
    sys.stdout.flush()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=300)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-warehouses-"))
    tmp.chmod(0o755)  # PostgreSQL runs as a plain user when this runs as root
    try:
        shop = tmp / "shop.duckdb"
        counts = generate_shop(shop, customers=args.customers, days=args.days)
        print(f"small tier: {args.customers} customers x {args.days} days, "
              f"{sum(counts.values()):,} raw rows")  # fmt: skip

        duck = tmp / "duckdb" / "warehouse.duckdb"
        duck.parent.mkdir()
        shutil.copyfile(shop, duck)
        _build("duckdb", warehouse=duck, target_path=tmp / "duckdb" / "target")

        with postgres(tmp / "pg") as env:
            if env is None:
                print("postgres: skipped (initdb/pg_ctl not on PATH)")
            else:
                from tests.conftest import copy_raw_to_postgres

                conninfo = (f"host={env['PGHOST']} port={env['PGPORT']} "
                            f"user=postgres dbname=warehouse")  # fmt: skip
                copy_raw_to_postgres(shop, conninfo, limit=10**9)
                _build("postgres", target="postgres", target_path=tmp / "pg_target",
                       env={**env, "PATH": os.environ.get("PATH", "")})  # fmt: skip

        reason = spark_wh.available()
        if reason:
            print(f"spark: skipped ({reason})")
            return
        root = tmp / "spark"
        started = time.perf_counter()
        session = spark_wh.session(root)
        jvm = time.perf_counter() - started
        started = time.perf_counter()
        spark_wh.load_raw_from_duckdb(shop, session, root / "raw")
        load = time.perf_counter() - started
        print(f"spark: JVM and session {jvm:.1f}s, raw tables to parquet {load:.1f}s")
        _build("spark", target="spark", target_path=root / "dbt_target",
               env={**spark_wh.dbt_env(root), "PATH": os.environ.get("PATH", "")})  # fmt: skip
        session.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
