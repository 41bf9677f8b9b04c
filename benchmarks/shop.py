"""The generated shop the dbt benchmarks build on: a new DuckDB file with the raw
landing schema, filled by the generator (seed 7) up to ``END``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from activations.generator import generate
from activations.warehouse.raw_schema import create_raw_schema_sql

END = datetime(2026, 6, 30, 12)
#: the dbt vars that compute the warehouse as of the shop's last hour
DBT_VARS = {"as_of": END.strftime("%Y-%m-%d %H:%M:%S")}


def generate_shop(path: Path, *, customers: int, days: int) -> dict[str, int]:
    """Create ``path`` with the raw schema and generate the shop into it; rows per raw table."""
    con = duckdb.connect(str(path))
    try:
        for statement in create_raw_schema_sql():
            con.execute(statement)
        return generate(con, customers=customers, days=days, seed=7, end=END)
    finally:
        con.close()
