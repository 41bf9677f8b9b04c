"""Once-per-run warehouses for the import tests: the real CDNOW and UCI files,
imported into private DuckDB files and built by the real dbt."""

from __future__ import annotations

from pathlib import Path

import pytest
from import_datasets import (
    CAUTIOUS,
    CDNOW_MASTER,
    UCI_AS_OF,
    UCI_PARQUET,
    ImportedWarehouse,
)

from activations import dbt
from activations.imports import import_orders


def _need(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"dataset {path} is not on this machine")


@pytest.fixture(scope="session")
def cdnow_warehouse(tmp_path_factory: pytest.TempPathFactory) -> ImportedWarehouse:
    """CDNOW_master.txt imported, core customers and orders built (as_of after the data)."""
    _need(CDNOW_MASTER)
    root = tmp_path_factory.mktemp("cdnow")
    path = root / "warehouse.duckdb"
    result = import_orders(CDNOW_MASTER, "cdnow", warehouse=path)
    build = dbt.run_dbt(
        "build",
        select=["+customers", "+orders"],
        vars={"as_of": "1998-07-01"},
        warehouse=path,
        target_path=root / "target",
        extra_args=CAUTIOUS,
        quiet=True,
    )
    return ImportedWarehouse(path, result, build)


@pytest.fixture(scope="session")
def uci_warehouse(tmp_path_factory: pytest.TempPathFactory) -> ImportedWarehouse:
    """online_retail.parquet imported; customers, rfm_segments and dormant_customers built."""
    _need(UCI_PARQUET)
    root = tmp_path_factory.mktemp("uci")
    path = root / "warehouse.duckdb"
    result = import_orders(UCI_PARQUET, "online-retail", warehouse=path)
    build = dbt.run_dbt(
        "build",
        select=["+customers", "+rfm_segments", "+dormant_customers"],
        vars={"as_of": UCI_AS_OF},
        warehouse=path,
        target_path=root / "target",
        extra_args=CAUTIOUS,
        quiet=True,
    )
    return ImportedWarehouse(path, result, build)
