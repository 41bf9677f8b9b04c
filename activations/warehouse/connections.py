"""Connections to the warehouse. DuckDB (one file) is the default."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import duckdb

from activations.errors import UserError
from activations.paths import duckdb_path

#: DuckDB's memory cap for every process of the product (the dbt profile reads
#: the same variable): past it DuckDB spills to disk instead of growing; its
#: default, 80% of RAM, let a 1M-customer build reach 11 GB
MEMORY_LIMIT_ENV = "DUCKDB_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "3GB"


class WarehouseMissing(UserError):
    """The warehouse file does not exist yet (nothing was ever built or synced)."""


class WarehouseLocked(UserError):
    """Another process holds the warehouse file (exit code 5, as a held sync lock)."""

    exit_code = 5


def connect_duckdb(
    path: Path | str | None = None, *, read_only: bool = False
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, with a clear message when it is missing or locked."""
    target = Path(path) if path is not None else duckdb_path()
    if read_only and not target.exists():
        raise WarehouseMissing(
            f"warehouse file {target} does not exist",
            hint="run `activations generate` (or `make demo`) first, or set DUCKDB_PATH",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(target), read_only=read_only)
    except duckdb.Error as exc:
        text = " ".join(str(exc).split())
        if isinstance(exc, duckdb.IOException) and "lock" in text.lower():
            raise WarehouseLocked(
                f"warehouse file {target} is locked by another process",
                hint="stop the other writer (dagster dev, another sync or dbt run) and retry",
            ) from None
        corrupt = "corrupt" in text.lower() or "not a valid duckdb" in text.lower()
        raise UserError(
            f"cannot open warehouse file {target}: {text[:300]}",
            hint="the file is damaged: restore it from a backup, or rebuild it "
            "(`activations generate`, then `activations build`)"
            if corrupt
            else None,
        ) from None
    limit = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
    try:
        con.execute("set memory_limit = ?", [limit])
    except duckdb.Error as exc:
        con.close()
        raise UserError(
            f"{MEMORY_LIMIT_ENV}={limit!r} is not a memory size DuckDB accepts",
            hint="give a size such as 3GB or 512MB, or unset it (default 3GB)",
        ) from exc
    return con


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
        except (psycopg.Error, ValueError) as exc:  # a bad URL too, not only a refused one
            text = redact_password(str(exc), str(target))
            first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
            raise UserError(
                f"cannot connect to the PostgreSQL warehouse: {first}",
                hint="check ACTIVATIONS_WAREHOUSE (or --warehouse) and that the server runs; "
                "put the password in PGPASSWORD rather than in the URL",
            ) from None
    return connect_duckdb(target, read_only=read_only)


def redact_password(text: str, target: str) -> str:
    """``text`` without the password of the URL or conninfo ``target``, however
    the driver quoted it (the whole URL is cut to its scheme and host part too)."""
    secrets = set()
    url = re.match(r"^[a-z]+://[^:/@?#]*:([^@]*)@", target)
    if url and url.group(1):
        secrets.add(url.group(1))
    for value in re.findall(r"password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", target):
        secrets.add(value.strip("'"))
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
