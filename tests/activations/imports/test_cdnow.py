"""CDNOW: the import reproduces the published BG/NBD summary, customer by customer,
straight from the orders table: an order is one customer-day, as the dataset's
authors count a transaction (activations/imports/README.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dataset_paths import require
from import_datasets import (
    CDNOW_MASTER,
    CDNOW_MASTER_HEAD,
    CDNOW_SAMPLE,
    CDNOW_SAMPLE_HEAD,
    CDNOW_SUMMARY,
    UCI_PARQUET_HEAD,
    ImportedWarehouse,
)

from activations.errors import UserError
from activations.imports import import_orders

CALIBRATION_END = "1997-09-30"  # the summary's calibration period ends here (39 weeks)



def _customer_days(lines: list[str]) -> int:
    """Distinct (customer, day) pairs among CDNOW data lines (header skipped)."""
    days = set()
    for line in lines:
        parts = line.split()
        if parts and parts[0].isdigit():
            days.add((int(parts[0]), parts[-3]))
    return len(days)


def test_master_file_loads_every_line(cdnow_warehouse: ImportedWarehouse) -> None:
    result = cdnow_warehouse.result
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (69_659, 69_659, 0)
    assert result.notes == {"zero_value": 80}  # the README's 80 zero-dollar lines, loaded
    # 69,659 lines are 67,591 customer-days: one order each, its lines are its items
    assert (result.orders, result.customers) == (67_591, 23_570)
    assert cdnow_warehouse.query(
        "select count(*), sum(total) from raw.orders where order_id like 'cdnow-%'"
    ) == [(67_591, Decimal("2500315.63"))]
    assert cdnow_warehouse.query("select count(*) from raw.order_items") == [(69_659,)]


def test_order_counts_are_purchase_days(cdnow_warehouse: ImportedWarehouse) -> None:
    """Frequency (core.customers.order_count, what RFM and milestones read) counts
    purchase days: 1,157 customers have more lines than days, none more orders."""
    lines = CDNOW_MASTER.read_text().splitlines()
    days_by_customer: dict[int, set[str]] = {}
    lines_by_customer: dict[int, int] = {}
    for line in lines[1:]:
        customer, day = int(line.split()[0]), line.split()[1]
        days_by_customer.setdefault(customer, set()).add(day)
        lines_by_customer[customer] = lines_by_customer.get(customer, 0) + 1
    assert sum(lines_by_customer[c] > len(d) for c, d in days_by_customer.items()) == 1_157
    ours = dict(
        cdnow_warehouse.query(
            "select cast(substr(customer_id, 7) as integer), order_count from core.customers"
            " where customer_id like 'cdnow-%'"
        )
    )
    assert ours == {c: len(d) for c, d in days_by_customer.items()}
    repeat = sum(len(d) > 1 for d in days_by_customer.values())
    assert cdnow_warehouse.query(
        "select count(*) from core.customers where customer_id like 'cdnow-%' and order_count > 1"
    ) == [(repeat,)]


def test_summary_is_reproduced_customer_by_customer(cdnow_warehouse: ImportedWarehouse) -> None:
    """frequency = repeat purchase days, recency = last - first purchase, T = end - first,
    in weeks, over the calibration period, straight from core.orders: frequency is
    the number of orders less one (no grouping by day)."""
    require(CDNOW_SAMPLE, CDNOW_SUMMARY)
    rows = cdnow_warehouse.query(
        f"""
        with sample_ids as (
            -- CDNOW_sample.txt: master customer id, then the summary's id
            select distinct
                cast(p[1] as integer) as master_id,
                cast(p[2] as integer) as sample_id
            from (
                select regexp_split_to_array(trim(line), '\\s+') as p
                from read_csv('{CDNOW_SAMPLE}', header = false, delim = '\\x01', quote = '',
                              columns = {{'line': 'VARCHAR'}})
            )
        ),
        calibration as (
            select
                orders.customer_id,
                count(*) - 1 as frequency,
                max(cast(orders.placed_at as date)) as last_day
            from core.orders
            where orders.is_completed and orders.placed_at < date '{CALIBRATION_END}' + 1
            group by orders.customer_id
        ),
        ours as (
            select
                sample_ids.sample_id,
                calibration.frequency,
                round((calibration.last_day - cast(customers.first_order_at as date)) / 7.0, 2)
                    as recency,
                round((date '{CALIBRATION_END}' - cast(customers.first_order_at as date)) / 7.0, 2)
                    as t
            from core.customers
            join sample_ids on customers.customer_id = 'cdnow-' || sample_ids.master_id
            join calibration on calibration.customer_id = customers.customer_id
        ),
        summary as (select * from read_csv('{CDNOW_SUMMARY}', header = true))
        select summary.ID, summary.frequency, summary.recency, summary.T,
               ours.frequency, ours.recency, ours.t
        from summary
        left join ours on ours.sample_id = summary.ID
        order by summary.ID
        """
    )
    assert len(rows) == 2_357
    mismatches = [r for r in rows if (r[1], float(r[2]), float(r[3])) != (r[4], r[5], r[6])]
    assert mismatches == []
    # the repeat buyers of the summary: the same people, counted from the orders table
    assert sum(r[1] > 0 for r in rows) == sum((r[4] or 0) > 0 for r in rows) > 0


def test_known_bad_line_is_rejected_with_its_line_number(tmp_path: Path) -> None:
    lines = CDNOW_MASTER_HEAD.read_text().splitlines()[:40]
    lines[16] = " 00012 1997XX01  1   9.99"  # line 17 of the file: a broken date
    lines[29] = " 00013 19970105  0   9.99"  # line 30: no CDs
    source = tmp_path / "cdnow_small.txt"
    source.write_text("\n".join(lines) + "\n")
    result = import_orders(source, "cdnow", warehouse=tmp_path / "w.duckdb")
    assert result.rows_read == 39  # the header is not a data line
    assert result.rejected_by_reason == {"malformed_line": 1, "non_positive_quantity": 1}
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    rejects = con.execute(
        "select line_number, reason, raw_line, source_file from raw.import_rejects "
        "order by line_number"
    ).fetchall()
    assert rejects == [
        (17, "malformed_line", lines[16], str(source.resolve())),
        (30, "non_positive_quantity", lines[29], str(source.resolve())),
    ]


def test_reimport_adds_nothing_twice(tmp_path: Path) -> None:
    source = tmp_path / "cdnow_small.txt"
    source.write_text("\n".join(CDNOW_SAMPLE_HEAD.read_text().splitlines()[:300]) + "\n")
    warehouse = tmp_path / "w.duckdb"
    first = import_orders(source, "cdnow", warehouse=warehouse)
    again = import_orders(source, "cdnow", warehouse=warehouse)
    assert again.already_imported and again.import_id == first.import_id
    forced = import_orders(source, "cdnow", warehouse=warehouse, force=True)
    assert forced.rows_loaded == first.rows_loaded == 300
    # a changed file (20 more lines): the 300 shared lines replace, not add
    grown_lines = CDNOW_SAMPLE_HEAD.read_text().splitlines()[:320]
    source.write_text("\n".join(grown_lines) + "\n")
    grown = import_orders(source, "cdnow", warehouse=warehouse)
    assert not grown.already_imported
    con = duckdb.connect(str(warehouse))
    orders, distinct_orders = con.execute(
        "select count(*), count(distinct order_id) from raw.orders"
    ).fetchall()[0]
    items = con.execute("select count(*) from raw.order_items").fetchall()[0][0]
    customers = con.execute(
        "select count(*) = count(distinct customer_id) from raw.customers"
    ).fetchall()[0][0]
    ledger = con.execute("select count(*) from raw.imports").fetchall()[0][0]
    days = _customer_days(grown_lines)
    assert days < 320  # some customers bought twice on a day
    assert (orders, distinct_orders, items, customers, ledger) == (days, days, 320, True, 3)


def test_sample_file_uses_master_ids(tmp_path: Path) -> None:
    """The sample file names master ids first: its orders are the master's orders."""
    source = tmp_path / "sample_head.txt"
    source.write_text("\n".join(CDNOW_SAMPLE_HEAD.read_text().splitlines()[:4]) + "\n")
    import_orders(source, "cdnow", warehouse=tmp_path / "w.duckdb")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert con.execute("select order_id from raw.orders order by 1").fetchall() == [
        ("cdnow-4-19970101",),
        ("cdnow-4-19970118",),
        ("cdnow-4-19970802",),
        ("cdnow-4-19971212",),
    ]


def test_wrong_format_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="online_retail.parquet is a parquet file, not a CDNOW"):
        import_orders(UCI_PARQUET_HEAD, "cdnow", warehouse=tmp_path / "w.duckdb")
    csv = tmp_path / "orders.csv"
    csv.write_text("order,customer,date\n1,2,2024-01-01\n")
    with pytest.raises(UserError, match=r"orders.csv does not look like a CDNOW file: line 2"):
        import_orders(csv, "cdnow", warehouse=tmp_path / "w.duckdb")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes(b" 00001 19970101  1   11.77\n 00002 19970102  1 \xe9 12.00\n")
    with pytest.raises(UserError, match=r"latin1.txt: line 2, byte 20: byte 0xe9 is not UTF-8"):
        import_orders(latin1, "cdnow", warehouse=tmp_path / "w.duckdb")
    with pytest.raises(UserError, match="no such file"):
        import_orders(tmp_path / "missing.txt", "cdnow", warehouse=tmp_path / "w.duckdb")
