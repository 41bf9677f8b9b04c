"""Where the datasets are (``tests/dataset_paths.py``: small fixtures in the
repository, full files through ``ACTIVATIONS_DATASETS``), and the warehouse
handle the import tests share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
from dataset_paths import dataset, fixture

from activations.imports import ImportResult
from activations.warehouse import dbt

# the full files (skip with dataset_paths.require when absent)
CDNOW_MASTER = dataset("cdnow/CDNOW_master.txt")
CDNOW_SAMPLE = dataset("cdnow/CDNOW_sample.txt")
CDNOW_SUMMARY = dataset("cdnow/cdnow_customers_summary.csv")
UCI_PARQUET = dataset("uci-online-retail/online_retail.parquet")
# their first few hundred lines, in the repository
CDNOW_MASTER_HEAD = fixture("cdnow/CDNOW_master.txt")  # header + 300 lines
CDNOW_SAMPLE_HEAD = fixture("cdnow/CDNOW_sample.txt")  # 400 lines
UCI_PARQUET_HEAD = fixture("online-retail/online_retail.parquet")  # 300 rows
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
