"""Connections to the warehouse. DuckDB (one file) is the default."""

from __future__ import annotations

from pathlib import Path

import duckdb

from activations.errors import UserError
from activations.paths import duckdb_path


def connect_duckdb(path: Path | str | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
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
