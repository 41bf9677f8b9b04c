"""Sources: every raw table and column is documented, loaded tables carry a
freshness rule, and `dbt source freshness` reports stale loads by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from activations import dbt
from activations.errors import UserError
from activations.raw_schema import RAW_TABLES, create_raw_schema_sql

SOURCE_OF = {
    "events": "app", "identifies": "app",
    "customers": "shop", "orders": "shop", "order_items": "shop", "products": "shop",
    "coupons": "shop", "consents": "shop",
    "campaigns": "esp", "email_events": "esp",
    "members": "community", "posts": "community", "answers": "community",
    "reactions": "community", "product_tests": "community",
    "product_test_applications": "community", "product_test_results": "community",
    "point_movements": "community",
}  # fmt: skip


@pytest.fixture(scope="module")
def manifest(dbt_parsed) -> dict:
    return json.loads(dbt_parsed.read_text())


def test_every_raw_column_is_documented(manifest):
    sources = {(node["source_name"], node["name"]): node for node in manifest["sources"].values()}
    for table, columns in RAW_TABLES.items():
        node = sources[(SOURCE_OF[table], table)]
        assert node["schema"] == "raw"
        documented = {name: col.get("description") for name, col in node["columns"].items()}
        for name, _ in columns:
            assert documented.get(name), f"raw.{table}.{name} has no description"


def test_loaded_tables_have_freshness(manifest):
    by_name = {node["name"]: node for node in manifest["sources"].values()}
    assert by_name["events"]["loaded_at_field"] == "received_at"
    assert by_name["orders"]["loaded_at_field"] == "placed_at"
    for table in ("events", "orders", "email_events"):
        freshness = by_name[table]["freshness"]
        assert freshness["warn_after"] == {"count": 2, "period": "hour"}
        assert freshness["error_after"] == {"count": 6, "period": "hour"}


def test_source_freshness_names_the_stale_source(tmp_path):
    path = tmp_path / "fresh.duckdb"
    con = duckdb.connect(str(path))
    for statement in create_raw_schema_sql():
        con.execute(statement)
    now = datetime.now(UTC).replace(tzinfo=None)  # raw timestamps are naive UTC
    con.execute(
        "insert into raw.events (message_id, anonymous_id, event, timestamp, received_at)"
        " values ('e1', 'a1', 'Product Viewed', ?, ?)",
        [now, now],
    )
    con.execute(
        "insert into raw.orders (order_id, placed_at, status, total) values ('o1', ?, 'paid', 1)",
        [now - timedelta(days=2)],
    )
    con.close()
    common = {"warehouse": path, "target_path": tmp_path / "target", "quiet": True}
    fresh = dbt.run_dbt("source freshness", select=["source:app.events"], **common)
    assert [n.status for n in fresh.nodes] == ["pass"]
    with pytest.raises(UserError) as caught:
        dbt.run_dbt("source freshness", select=["source:shop.orders"], **common)
    assert "orders" in str(caught.value)
    assert "models/staging/shop/_shop__sources.yml" in str(caught.value)
