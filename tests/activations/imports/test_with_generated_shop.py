"""Imported history next to the shop's own (generated) data: no id collides,
nothing of the shop's changes, and the core marts build over both."""

from __future__ import annotations

from import_datasets import CAUTIOUS, CDNOW_SAMPLE_HEAD

from activations.imports import import_orders


def test_import_into_a_live_warehouse(warehouse_copy, tmp_path) -> None:
    source = tmp_path / "cdnow_head.txt"
    source.write_text("\n".join(CDNOW_SAMPLE_HEAD.read_text().splitlines()[:200]) + "\n")
    tables = ("customers", "orders", "order_items", "products")
    before = {t: warehouse_copy.query(f"select count(*) from raw.{t}")[0][0] for t in tables}
    shop_orders = warehouse_copy.query("select * from raw.orders order by order_id")
    result = import_orders(source, "cdnow", warehouse=warehouse_copy.path)
    after = {t: warehouse_copy.query(f"select count(*) from raw.{t}")[0][0] for t in tables}
    assert after == {
        "customers": before["customers"] + result.customers,
        "orders": before["orders"] + result.orders,
        "order_items": before["order_items"] + result.rows_loaded,
        "products": before["products"] + 1,
    }
    assert (
        warehouse_copy.query(
            "select * from raw.orders where order_id not like 'cdnow-%' order by order_id"
        )
        == shop_orders
    )
    warehouse_copy.dbt("build", select=["+customers", "+orders"], extra_args=CAUTIOUS)
    assert warehouse_copy.query(
        "select count(*), sum(order_count) from core.customers where customer_id like 'cdnow-%'"
    ) == [(result.customers, result.orders)]
