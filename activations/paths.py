"""Where the project's files live. One place, so the CLI, dbt and Dagster agree."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


def duckdb_path() -> Path:
    """The warehouse file: ``DUCKDB_PATH`` or ``warehouse.duckdb`` in the project root."""
    raw = os.environ.get("DUCKDB_PATH")
    return Path(raw).expanduser().resolve() if raw else PROJECT_ROOT / "warehouse.duckdb"
