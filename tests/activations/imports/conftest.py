"""Once-per-run warehouses for the import tests: the real CDNOW and UCI files,
imported into private DuckDB files and built by the real dbt."""

from __future__ import annotations

from pathlib import Path

import pytest
from dataset_paths import require
from import_datasets import (
    CAUTIOUS,
    CDNOW_MASTER,
    UCI_AS_OF,
    UCI_PARQUET,
    ImportedWarehouse,
)

from activations.imports import import_orders
from activations.warehouse import dbt


def _imported(
    factory: pytest.TempPathFactory, dataset: Path, fmt: str, select: list[str], as_of: str
) -> ImportedWarehouse:
    """``dataset`` imported as ``fmt`` into a private warehouse and ``select`` built
    as of ``as_of``; the test is skipped when the dataset is not on this machine."""
    require(dataset)
    root = factory.mktemp(fmt)
    path = root / "warehouse.duckdb"
    result = import_orders(dataset, fmt, warehouse=path)
    build = dbt.run_dbt(
        "build",
        select=select,
        vars={"as_of": as_of},
        warehouse=path,
        target_path=root / "target",
        extra_args=CAUTIOUS,
        quiet=True,
    )
    return ImportedWarehouse(path, result, build)


@pytest.fixture(scope="session")
def cdnow_warehouse(tmp_path_factory: pytest.TempPathFactory) -> ImportedWarehouse:
    """CDNOW_master.txt imported, core customers and orders built (as_of after the data)."""
    return _imported(
        tmp_path_factory, CDNOW_MASTER, "cdnow", ["+customers", "+orders"], "1998-07-01"
    )


@pytest.fixture(scope="session")
def uci_warehouse(tmp_path_factory: pytest.TempPathFactory) -> ImportedWarehouse:
    """online_retail.parquet imported; customers, rfm_segments and dormant_customers built."""
    return _imported(
        tmp_path_factory,
        UCI_PARQUET,
        "online-retail",
        ["+customers", "+rfm_segments", "+dormant_customers"],
        UCI_AS_OF,
    )
