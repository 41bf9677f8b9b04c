"""The ``activations`` command line.

Each area registers its own commands from its own module (``register(app)``);
this file only assembles them and turns ``UserError`` into a clear message.
"""

from __future__ import annotations

import sys

import typer

from activations import demo
from activations.collect import commands as collect_commands
from activations.consent import commands as consent_commands
from activations.dashboards import commands as dashboards_commands
from activations.errors import UserError
from activations.generator import commands as generator_commands
from activations.imports import commands as imports_commands
from activations.sandbox import commands as sandbox_commands
from activations.sync import commands as sync_commands
from activations.warehouse import commands as dbt_commands

app = typer.Typer(
    name="activations",
    help="Audiences from the warehouse, synced to email providers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for area in (
    generator_commands,
    imports_commands,
    dbt_commands,
    sync_commands,
    sandbox_commands,
    consent_commands,
    dashboards_commands,
    collect_commands,
    demo,
):
    area.register(app)


def main() -> None:
    """Run the command line: typer reports usage errors itself (standalone mode);
    a ``UserError`` from any command becomes one red line and its exit code."""
    try:
        app()
    except UserError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
