"""``activations coupons import FILE --campaign C`` and ``activations coupons status``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from activations.coupons.ledger import status
from activations.coupons.pool import import_pool
from activations.errors import UserError
from activations.warehouse.connections import WarehouseMissing, connect, is_postgres
from activations.warehouse.db import Db

coupons_app = typer.Typer(
    name="coupons",
    help="Unique coupon codes: import a campaign's pool, see what was given out.",
    no_args_is_help=True,
)
console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

WarehouseOpt = Annotated[
    str | None,
    typer.Option(
        "--warehouse",
        help="DuckDB file or PostgreSQL URL (default: ACTIVATIONS_WAREHOUSE, else DUCKDB_PATH)",
    ),
]
SHOWN_REJECTS = 20


def _open(warehouse: str | None, *, read_only: bool) -> Db:
    if warehouse is not None and not is_postgres(warehouse):
        return Db(connect(Path(warehouse), read_only=read_only))
    return Db(connect(warehouse, read_only=read_only))


@coupons_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="CSV: code[,value[,expires_at]] per line")],
    campaign: Annotated[str, typer.Option("--campaign", help="the campaign the codes are for")],
    warehouse: WarehouseOpt = None,
) -> None:
    """Add a file of codes to a campaign's pool (idempotent; bad lines are listed)."""
    db = _open(warehouse, read_only=False)
    try:
        result = import_pool(db, file, campaign)
    finally:
        db.close()
    console.print(
        f"campaign {campaign}: imported {result.imported:,} codes, {result.already:,} "
        f"already in its pool, {len(result.rejects):,} lines rejected"
    )
    for r in result.rejects[:SHOWN_REJECTS]:
        console.print(f"  {file}:{r.line}: {r.reason}")
    if len(result.rejects) > SHOWN_REJECTS:
        console.print(f"  … and {len(result.rejects) - SHOWN_REJECTS:,} more")
    if result.rejects and not (result.imported or result.already):
        raise UserError(
            f"{file}: no line could be imported",
            hint="one code per line: code[,value[,expires_at]] (see README, Coupon codes)",
        )


@coupons_app.command("status")
def status_command(
    campaign: Annotated[str | None, typer.Option("--campaign", help="one campaign")] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Per campaign: codes in the pool, given out, still available, expired unused."""
    try:
        db = _open(warehouse, read_only=True)
    except WarehouseMissing:
        console.print("no warehouse yet: no coupon code was imported or given out")
        return
    try:
        rows = status(db, campaign)
    finally:
        db.close()
    if not rows:
        console.print("no coupon campaign yet" + (f" named {campaign!r}" if campaign else ""))
        return
    table = Table(header_style="bold")
    for col in (
        "campaign",
        "pool",
        "assigned",
        "generated",
        "available",
        "expired unused",
        "last assigned",
    ):
        table.add_column(col, justify="left" if col in ("campaign", "last assigned") else "right")
    for r in rows:
        last = r["last_assigned_at"]
        table.add_row(
            r["campaign"],
            f"{r['pool']:,}",
            f"{r['assigned']:,}",
            f"{r['generated']:,}",
            f"{r['available']:,}",
            f"{r['expired']:,}",
            f"{last:%Y-%m-%d %H:%M}" if last else "",
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(coupons_app)
