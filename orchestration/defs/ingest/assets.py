"""Raw data landing: the tables of schema ``raw``, keyed exactly as the dbt
sources (``shop/orders``, ``app/events``, ``esp/email_events``...), so the
lineage runs raw -> staging -> audiences -> syncs in the UI.

Two ways in, one asset:

- demo mode: the synthetic shop generator replaces every raw table with a
  history ending now;
- file mode: one order-history file (UCI Online Retail, CDNOW, CSV) from the
  drop folder goes through ``activations.imports`` into the order tables.

(No ``from __future__ import annotations``: Dagster reads the config class.)
"""

from pathlib import Path

import dagster as dg

from activations.errors import UserError
from activations.generator import generate
from activations.imports import import_orders
from activations.raw_schema import RAW_TABLES
from orchestration.defs.resources import WarehouseResource

# the dbt source (models/staging/<source>/) each raw table belongs to
SOURCE_OF_TABLE = {
    "events": "app",
    "identifies": "app",
    "campaigns": "esp",
    "email_events": "esp",
    "customers": "shop",
    "orders": "shop",
    "order_items": "shop",
    "products": "shop",
    "consents": "shop",
    "coupons": "shop",
    "members": "community",
    "posts": "community",
    "answers": "community",
    "reactions": "community",
    "product_tests": "community",
    "product_test_applications": "community",
    "product_test_results": "community",
    "point_movements": "community",
}
# the tables an order-history import writes
ORDER_TABLES = ("customers", "orders", "order_items", "products")


def raw_key(table: str) -> dg.AssetKey:
    return dg.AssetKey([SOURCE_OF_TABLE[table], table])


RAW_KEYS = [raw_key(table) for table in RAW_TABLES]
ORDER_KEYS = [raw_key(table) for table in ORDER_TABLES]


class IngestConfig(dg.Config):
    """``mode: demo`` regenerates the synthetic shop; ``mode: file`` imports ``file``."""

    mode: str = "demo"  # demo | file
    customers: int = 2000
    days: int = 120
    seed: int = 42
    file: str | None = None
    format: str | None = None  # online-retail | cdnow | csv
    mapping_file: str | None = None  # CSV only: the column mapping (YAML)


@dg.multi_asset(
    name="ingest_raw",
    specs=[
        dg.AssetSpec(
            key,
            group_name="raw",
            owners=["team:data-engineering"],
            kinds={"duckdb", "python"},
            skippable=True,
            description=f"raw.{key.path[-1]}: landed by the generator (demo) or an import.",
        )
        for key in RAW_KEYS
    ],
    can_subset=True,
    pool="duckdb",
)
def ingest_raw(
    context: dg.AssetExecutionContext, config: IngestConfig, warehouse: WarehouseResource
):
    selected = set(context.selected_asset_keys)
    try:
        if config.mode not in ("demo", "file"):
            raise UserError(
                f"ingest mode {config.mode!r} is unknown", hint="use mode: demo or mode: file"
            )
        if config.mode == "demo":
            with warehouse.connection() as conn:
                counts = generate(
                    conn, customers=config.customers, days=config.days, seed=config.seed
                )
            for table in RAW_TABLES:
                if raw_key(table) in selected:
                    yield dg.MaterializeResult(
                        asset_key=raw_key(table),
                        metadata={"dagster/row_count": int(counts.get(table, 0)), "mode": "demo"},
                    )
            return
        if not config.file or not config.format:
            raise UserError(
                "ingest in file mode needs config `file` and `format`",
                hint="e.g. {file: drop/cdnow/CDNOW_master.txt, format: cdnow}",
            )
        with warehouse.connection() as conn:
            result = import_orders(
                Path(config.file), config.format, con=conn, mapping_file=config.mapping_file
            )
    except UserError as exc:
        raise dg.Failure(description=str(exc)) from None
    counts = {"customers": result.customers, "orders": result.orders, "products": result.products}
    for table in ORDER_TABLES:
        if raw_key(table) not in selected:
            continue
        metadata = {
            "source_file": result.source_file,
            "rows_read": result.rows_read,
            "rows_loaded": result.rows_loaded,
            "rows_rejected": result.rows_rejected,
            "rejected_by_reason": dg.MetadataValue.json(result.rejected_by_reason),
            "already_imported": result.already_imported,
        }
        if table in counts:
            metadata["new_rows"] = counts[table]
        yield dg.MaterializeResult(asset_key=raw_key(table), metadata=metadata)


ingest_job = dg.define_asset_job(
    "ingest_raw_data",
    selection=dg.AssetSelection.assets(*RAW_KEYS),
    description="Land raw data: the demo generator, or one order file (drop-folder sensor).",
)
