"""One generated warehouse per test module: 2,000 customers x 60 days (a few seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from activations.generator import generate

END = datetime(2026, 6, 30, 12, 0, 0)
REALISM_ARGS = {"customers": 2_000, "days": 60, "seed": 42}


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("generator") / "shop.duckdb"
    counts = generate(path, end=END, **REALISM_ARGS)
    return path, counts


@pytest.fixture(scope="session")
def generated_window() -> tuple[datetime, datetime]:
    """(start, end) of the generated history."""
    return END - timedelta(days=REALISM_ARGS["days"]), END


@pytest.fixture(scope="session")
def shop(generated: tuple[Path, dict[str, int]]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(generated[0]), read_only=True)
    yield con
    con.close()
