"""Connections to the warehouse. DuckDB (one file) is the default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb

from activations.errors import UserError
from activations.paths import duckdb_path


def connect_duckdb(
    path: Path | str | None = None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, with a clear message when it is missing or locked."""
    target = Path(path) if path is not None else duckdb_path()
    if read_only and not target.exists():
        raise UserError(
            f"warehouse file {target} does not exist",
            hint="run `activations generate` (or `make demo`) first, or set DUCKDB_PATH",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(target), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            raise UserError(
                f"warehouse file {target} is locked by another process",
                hint="stop the other writer (dagster dev, another sync or dbt run) and retry",
            ) from None
        raise UserError(f"cannot open warehouse file {target}: {text}") from None


def is_postgres(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://")) or "dbname=" in target


def connect(url_or_path: Path | str | None = None, *, read_only: bool = False) -> Any:
    """A warehouse connection: a PostgreSQL URL / conninfo (``postgresql://…``,
    ``host=… dbname=…``) or a DuckDB file path; default ``$ACTIVATIONS_WAREHOUSE``,
    else the DuckDB file of ``DUCKDB_PATH``."""
    target = url_or_path if url_or_path is not None else os.environ.get("ACTIVATIONS_WAREHOUSE")
    if target is not None and is_postgres(str(target)):
        import psycopg

        try:
            return psycopg.connect(str(target), autocommit=True)
        except psycopg.OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"cannot connect to the PostgreSQL warehouse: {first}",
                hint="check ACTIVATIONS_WAREHOUSE (or --warehouse) and that the server runs",
            ) from None
    return connect_duckdb(target, read_only=read_only)
