"""What is in the warehouse: row counts of the raw tables and core marts, and
the size of every audience (with its sendable part when it has one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from activations.warehouse.connections import connect_duckdb
from activations.warehouse.raw_schema import RAW_SCHEMA, RAW_TABLES

CORE_MARTS = ("customers", "orders")


@dataclass(frozen=True)
class TableCount:
    schema: str
    table: str
    rows: int | None  # None: the table does not exist (yet)
    sendable: int | None = None  # audiences with an `is_sendable` column


def _tables(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, list[str]]:
    rows = con.execute(
        "select table_name, column_name from information_schema.columns"
        " where table_schema = ? order by table_name, ordinal_position",
        [schema],
    ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _count(con: duckdb.DuckDBPyConnection, schema: str, table: str, where: str = "") -> int:
    sql = f'select count(*) from "{schema}"."{table}"' + (f" where {where}" if where else "")
    return int(con.execute(sql).fetchone()[0])


def warehouse_counts(path: Path | str | None = None) -> list[TableCount]:
    """Counts for raw tables, core marts and every model in schema ``audiences``."""
    con = connect_duckdb(path, read_only=True)
    try:
        counts: list[TableCount] = []
        raw = _tables(con, RAW_SCHEMA)
        for table in RAW_TABLES:
            counts.append(
                TableCount(
                    RAW_SCHEMA, table, _count(con, RAW_SCHEMA, table) if table in raw else None
                )
            )
        core = _tables(con, "core")
        for table in list(CORE_MARTS) + sorted(set(core) - set(CORE_MARTS)):
            counts.append(
                TableCount("core", table, _count(con, "core", table) if table in core else None)
            )
        for table, columns in sorted(_tables(con, "audiences").items()):
            sendable = (
                _count(con, "audiences", table, "is_sendable") if "is_sendable" in columns else None
            )
            counts.append(TableCount("audiences", table, _count(con, "audiences", table), sendable))
        return counts
    finally:
        con.close()
