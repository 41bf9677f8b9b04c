"""What is in the warehouse: row counts of the raw tables and core marts, and
the size of every audience (with its sendable part when it has one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
    as_of: datetime | None = None  # the as_of of the build that last built it (dbt models)


@dataclass(frozen=True)
class LastBuild:
    """The latest dbt build or run recorded in ``activations.dbt_builds``."""

    as_of: datetime
    started_at: datetime
    finished_at: datetime
    command: str
    models: int


BUILDS = ("activations", "dbt_builds")  # written by the dbt on-run-end hook record_build


def _built_as_of(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], datetime]:
    """(schema, model) -> the as_of of the latest build that built it."""
    if "dbt_builds" not in _tables(con, BUILDS[0]):
        return {}
    rows = con.execute(
        "select schema_name, model_name, arg_max(as_of, finished_at) from activations.dbt_builds"
        " group by schema_name, model_name"
    ).fetchall()
    return {(schema, model): as_of for schema, model, as_of in rows}


def last_build(path: Path | str | None = None) -> LastBuild | None:
    """The latest recorded dbt build (its as_of, when it ran, how many models), or None."""
    con = connect_duckdb(path, read_only=True)
    try:
        if "dbt_builds" not in _tables(con, BUILDS[0]):
            return None
        row = con.execute(
            "select as_of, started_at, finished_at, command, count(*) from activations.dbt_builds"
            " group by invocation_id, as_of, started_at, finished_at, command"
            " order by finished_at desc, started_at desc limit 1"
        ).fetchone()
    finally:
        con.close()
    return LastBuild(*row) if row else None


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
        built = _built_as_of(con)
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
                TableCount(
                    "core",
                    table,
                    _count(con, "core", table) if table in core else None,
                    as_of=built.get(("core", table)),
                )
            )
        for table, columns in sorted(_tables(con, "audiences").items()):
            sendable = (
                _count(con, "audiences", table, "is_sendable") if "is_sendable" in columns else None
            )
            counts.append(
                TableCount(
                    "audiences",
                    table,
                    _count(con, "audiences", table),
                    sendable,
                    as_of=built.get(("audiences", table)),
                )
            )
        return counts
    finally:
        con.close()
