"""``activations import orders FILE --format online-retail|cdnow|csv`` and
``activations import customers FILE --format csv --map ...``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from activations.imports.formats.csv_mapping import parse_map_option
from activations.imports.loader import ImportResult, import_customers, import_orders

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


class CustomerFormat(StrEnum):
    csv = "csv"


@import_app.command("customers")
def customers_command(
    file: Annotated[Path, typer.Argument(help="the file of customers to import")],
    format: Annotated[
        CustomerFormat, typer.Option("--format", "-f", help="csv (with --map or --mapping)")
    ] = CustomerFormat.csv,
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", help="DuckDB file (default: DUCKDB_PATH)")
    ] = None,
    map: Annotated[
        str | None,
        typer.Option(
            "--map",
            help="field=column pairs, e.g. customer_id=Id,email=Email,created_at=Created,"
            "consent_status=Newsletter,consent_date=NewsletterDate",
        ),
    ] = None,
    mapping: Annotated[Path | None, typer.Option("--mapping", help="a YAML mapping file")] = None,
    date_format: Annotated[
        str | None,
        typer.Option("--date-format", help="strptime format of the dates (default: ISO 8601)"),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", help="id prefix (default: csv, as for orders)"),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="import again even if this file was imported")
    ] = False,
) -> None:
    """Load customers (with or without orders) into raw.customers, and their consent into
    raw.consents with source 'import' (a double opt-in only with the date the file gives).

    Lines that are not loaded go to raw.import_rejects with their reason and line number.
    """
    result = import_customers(
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
        written = (
            f"{result.customers:,} customers, {result.consents:,} consent rows"
            if result.format.startswith("customers")
            else f"{result.orders:,} orders, {result.customers:,} customers, "
            f"{result.products:,} products"
        )
        console.print(
            f"{written} written; rejects in raw.import_rejects (import_id {result.import_id})"
        )


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
