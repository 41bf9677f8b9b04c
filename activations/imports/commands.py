"""``activations import orders FILE --format online-retail|cdnow|csv``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from activations.imports.formats.csv_mapping import parse_map_option
from activations.imports.loader import ImportResult, import_orders

import_app = typer.Typer(
    name="import", help="Import historical data into the raw tables.", no_args_is_help=True
)


class Format(StrEnum):
    online_retail = "online-retail"
    cdnow = "cdnow"
    csv = "csv"


@import_app.command("orders")
def orders_command(
    file: Annotated[Path, typer.Argument(help="the order-history file to import")],
    format: Annotated[
        Format,
        typer.Option("--format", "-f", help="online-retail (UCI Parquet), cdnow or csv"),
    ],
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", help="DuckDB file (default: DUCKDB_PATH)")
    ] = None,
    map: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="csv only: field=column pairs, e.g. order_id=InvoiceNo,customer_id=CustomerID,"
            "placed_at=InvoiceDate,product_id=StockCode,quantity=Quantity,unit_price=UnitPrice",
        ),
    ] = None,
    mapping: Annotated[
        Path | None, typer.Option("--mapping", help="csv only: a YAML mapping file")
    ] = None,
    date_format: Annotated[
        str | None,
        typer.Option("--date-format", help="csv only: strptime format of placed_at"),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", help="id prefix (default: uci, cdnow or csv)"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="import again even if this file was imported")
    ] = False,
) -> None:
    """Load an order history into raw.orders, order_items, customers and products.

    Lines that are not loaded go to raw.import_rejects with their reason and line number.
    """
    result = import_orders(
        file,
        format.value,
        warehouse=warehouse,
        mapping=parse_map_option(map) if map else None,
        mapping_file=mapping,
        namespace=namespace,
        date_format=date_format,
        force=force,
    )
    print_result(result, Console())


def print_result(result: ImportResult, console: Console) -> None:
    if result.already_imported:
        console.print(
            f"[yellow]{result.source_file} was already imported as {result.import_id}: "
            "nothing added[/yellow] (use --force to import it again)"
        )
    table = Table(title=f"import of {Path(result.source_file).name} ({result.format})")
    table.add_column("lines")
    table.add_column("count", justify="right")
    table.add_row("read", f"{result.rows_read:,}")
    table.add_row("loaded", f"{result.rows_loaded:,}")
    for note, n in result.notes.items():
        table.add_row(f"  of which {note}", f"{n:,}")
    table.add_row("rejected", f"{result.rows_rejected:,}")
    for reason, n in result.rejected_by_reason.items():
        table.add_row(f"  {reason}", f"{n:,}")
    console.print(table)
    if not result.already_imported:
        console.print(
            f"{result.orders:,} orders, {result.customers:,} customers, "
            f"{result.products:,} products written; rejects in raw.import_rejects "
            f"(import_id {result.import_id})"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
