"""``activations dashboard``: render the measurement dashboard to one HTML file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from activations.dashboards.render import DEFAULT_OUT, render_dashboard
from activations.sync import source


def dashboard_command(
    out: Annotated[Path, typer.Option("--out", help="where to write the HTML page")] = DEFAULT_OUT,
    warehouse: Annotated[
        Path | None, typer.Option("--warehouse", help="DuckDB file (default: DUCKDB_PATH)")
    ] = None,
) -> None:
    """Render the metric marts into one self-contained HTML page and print its path."""
    source.prepare_marts(warehouse)  # ACTIVATIONS_AUDIENCES_FROM=spark: copy the marts in
    path = render_dashboard(warehouse, out)
    typer.echo(f"dashboard written to {path}")


def register(app: typer.Typer) -> None:
    app.command("dashboard")(dashboard_command)
