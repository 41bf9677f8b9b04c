"""``activations build`` and ``activations report``: the dbt side of the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from activations.errors import UserError
from activations.paths import duckdb_path
from activations.warehouse import dbt
from activations.warehouse.counts import last_build, warehouse_counts


def build_command(
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="dbt node selection, e.g. staging+ or customers"),
    ] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="dbt exclusion")] = None,
    vars: Annotated[
        str | None,
        typer.Option(
            "--vars",
            help="dbt vars as YAML, e.g. \"{as_of: '2026-06-30'}\" (UTC; default as_of: now, UTC)",
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option("--target", help="profiles.yml output: duckdb (default), postgres or spark"),
    ] = None,
    hourly: Annotated[
        bool,
        typer.Option(
            "--hourly",
            help="only what an hour of new events touches: the hourly audiences and what "
            "they read (dbt selector `hourly`, dbt_project/selectors.yml)",
        ),
    ] = False,
    full_refresh: Annotated[
        bool,
        typer.Option("--full-refresh", help="rebuild the incremental event models from scratch"),
    ] = False,
) -> None:
    """Build the dbt project (models, seeds, data tests, unit tests) into the warehouse.

    One as_of for the whole build: the given one (UTC), else now (UTC), fixed here."""
    if hourly and (select or exclude):
        raise UserError(
            "--hourly is a selection of its own: drop --select/--exclude, or use them alone",
            hint="activations build --hourly",
        )
    dbt_vars = dbt.build_vars(dbt.parse_vars(vars), hourly=hourly)
    extra = (["--selector", dbt.HOURLY_SELECTOR] if hourly else []) + (
        ["--full-refresh"] if full_refresh else []
    )
    result = dbt.build(
        select=select or (), exclude=exclude or (), vars=dbt_vars, target=target, extra_args=extra
    )
    counts = result.by_status()
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
    typer.secho(
        f"dbt build passed as of {dbt_vars['as_of']} UTC: {summary}", fg=typer.colors.GREEN
    )


def report_command(
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", help="DuckDB file (default: DUCKDB_PATH)")
    ] = None,
) -> None:
    """Row counts of raw tables and core marts, and the size of every audience."""
    path = warehouse or duckdb_path()
    build = last_build(path)
    caption = (
        f"last build: as of {build.as_of:%Y-%m-%d %H:%M:%S} UTC "
        f"(dbt {build.command} of {build.models} models, {build.started_at:%Y-%m-%d %H:%M:%S}"
        f" to {build.finished_at:%H:%M:%S} UTC)"
        if build
        else "no dbt build recorded yet"
    )
    table = Table(title=f"warehouse {path}", caption=caption)
    table.add_column("schema")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("sendable", justify="right")
    table.add_column("as of (UTC)")
    for count in warehouse_counts(path):
        table.add_row(
            count.schema,
            count.table,
            "missing" if count.rows is None else f"{count.rows:,}",
            "" if count.sendable is None else f"{count.sendable:,}",
            "" if count.as_of is None else f"{count.as_of:%Y-%m-%d %H:%M:%S}",
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command("build")(build_command)
    app.command("report")(report_command)
