"""``activations import orders``, run as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
from import_datasets import CDNOW_MASTER_HEAD, UCI_PARQUET_HEAD

ACTIVATIONS = Path(sys.executable).parent / "activations"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120", "NO_COLOR": "1"}
    return subprocess.run(
        [str(ACTIVATIONS), *map(str, args)], capture_output=True, text=True, env=env, timeout=120
    )


def test_import_prints_counts_and_is_idempotent(tmp_path: Path) -> None:
    source = tmp_path / "cdnow_head.txt"
    lines = CDNOW_MASTER_HEAD.read_text().splitlines()[:101]
    lines[50] = " 00017 19970101  2   -5.00"  # a negative amount, line 51
    source.write_text("\n".join(lines) + "\n")
    warehouse = tmp_path / "w.duckdb"
    first = run("import", "orders", source, "--format", "cdnow", "--warehouse", warehouse)
    assert first.returncode == 0, first.stderr
    out = " ".join(first.stdout.split())
    assert "read │ 100" in out and "loaded │ 99" in out
    assert "rejected │ 1" in out and "negative_price │ 1" in out
    again = run("import", "orders", source, "--format", "cdnow", "--warehouse", warehouse)
    assert again.returncode == 0, again.stderr
    assert "already imported" in again.stdout and "nothing added" in again.stdout
    con = duckdb.connect(str(warehouse), read_only=True)
    # 99 lines loaded, on 96 customer-days: one order per customer-day
    assert con.execute("select count(*) from raw.orders").fetchall() == [(96,)]
    assert con.execute("select count(*) from raw.order_items").fetchall() == [(99,)]
    assert con.execute("select line_number, reason from raw.import_rejects").fetchall() == [
        (51, "negative_price")
    ]


def test_errors_are_one_clear_message(tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    wrong = run("import", "orders", UCI_PARQUET_HEAD, "--format", "cdnow", "--warehouse", warehouse)
    assert wrong.returncode == 2
    assert "online_retail.parquet is a parquet file, not a CDNOW text file" in wrong.stderr
    assert "Traceback" not in wrong.stderr
    missing = run("import", "orders", tmp_path / "nope.csv", "--format", "csv", "--map", "a=b")
    assert missing.returncode == 2 and "nope.csv: no such file" in missing.stderr
    source = tmp_path / "o.csv"
    source.write_text("id,who,when,sku,n,price\n1,2,2024-01-01,X,1,2.5\n")
    mapping = "order_id=id,customer_id=customer,placed_at=when,product_id=sku,quantity=n"
    bad_map = run(
        "import", "orders", source, "--format", "csv", "--map", mapping + ",unit_price=price",
        "--warehouse", warehouse,
    )  # fmt: skip
    assert bad_map.returncode == 2
    assert "o.csv: line 1 (header) has no column 'customer' (for customer_id)" in bad_map.stderr
    assert "id, who, when, sku, n, price" in bad_map.stderr
    not_csv_option = run(
        "import", "orders", UCI_PARQUET_HEAD, "--format", "online-retail", "--map", "a=b",
        "--warehouse", warehouse,
    )  # fmt: skip
    assert not_csv_option.returncode == 2
    assert "apply to --format csv only" in not_csv_option.stderr
