"""Helpers for the consent tests (fixtures are in conftest.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import duckdb
from sandbox_syncs import fast_options, sandbox_settings

from activations.contract.records import ProviderSettings
from activations.warehouse.raw_schema import create_raw_schema_sql


def raw_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A connection to a new DuckDB file at ``path`` holding the empty raw landing schema."""
    conn = duckdb.connect(str(path))
    for statement in create_raw_schema_sql():
        conn.execute(statement)
    return conn


def settings_for(sandbox: Any, name: str) -> ProviderSettings:
    settings = sandbox_settings(sandbox.base_url, name)
    return dataclasses.replace(settings, options=fast_options(name))
