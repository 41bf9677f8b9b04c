"""``activations build`` and ``activations report``: the dbt side of the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from activations.paths import duckdb_path
from activations.warehouse import dbt
from activations.warehouse.counts import warehouse_counts


def build_command(
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="dbt node selection, e.g. staging+ or customers"),
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="dbt exclusion")] = None,
    vars: Annotated[
        str | None, typer.Option("--vars", help="dbt vars as YAML, e.g. \"{as_of: '2026-06-30'}\"")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help="profiles.yml output: duckdb (default) or postgres"),
    ] = None,
) -> None:
    """Build the dbt project (models, seeds, data tests, unit tests) into the warehouse."""
    result = dbt.build(
        select=select or (), exclude=exclude or (), vars=dbt.parse_vars(vars), target=target
    )
    counts = result.by_status()
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
    typer.secho(f"dbt build passed: {summary}", fg=typer.colors.GREEN)


def report_command(
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", help="DuckDB file (default: DUCKDB_PATH)")
    ] = None,
) -> None:
    """Row counts of raw tables and core marts, and the size of every audience."""
    path = warehouse or duckdb_path()
    table = Table(title=f"warehouse {path}")
    table.add_column("schema")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("sendable", justify="right")
    for count in warehouse_counts(path):
        table.add_row(
            count.schema,
            count.table,
            "missing" if count.rows is None else f"{count.rows:,}",
            "" if count.sendable is None else f"{count.sendable:,}",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("build")(build_command)
    app.command("report")(report_command)
