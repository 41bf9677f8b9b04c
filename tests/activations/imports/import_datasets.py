"""Where the shipped datasets are, and the warehouse handle the import tests share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from activations.imports import ImportResult
from activations.paths import PROJECT_ROOT
from activations.warehouse import dbt

DATASETS = PROJECT_ROOT.parent / "shared" / "datasets"
CDNOW_MASTER = DATASETS / "cdnow" / "CDNOW_master.txt"
CDNOW_SAMPLE = DATASETS / "cdnow" / "CDNOW_sample.txt"
CDNOW_SUMMARY = DATASETS / "cdnow" / "cdnow_customers_summary.csv"
UCI_PARQUET = DATASETS / "uci-online-retail" / "online_retail.parquet"
UCI_AS_OF = "2011-12-10"
# relationship tests reaching models outside the selection are left out
CAUTIOUS = ["--indirect-selection", "cautious"]


@dataclass
class ImportedWarehouse:
    path: Path
    result: ImportResult
    build: dbt.DbtRun

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()
