"""The ``activations`` command line.

Each area registers its own commands from its own module (``register(app)``);
this file only assembles them and turns ``UserError`` into a clear message.
"""

from __future__ import annotations

import sys

import typer

from activations.errors import UserError

app = typer.Typer(
    name="activations",
    help="Audiences from the warehouse, synced to email providers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# one line per area: from activations.<area> import commands as <area>_commands; <area>_commands.register(app)
from activations import dbt_commands; dbt_commands.register(app)  # noqa: E402, E702, I001
from activations.consent import commands as consent_commands; consent_commands.register(app)  # noqa: E402, E702, I001, E501
from activations.sandbox import commands as sandbox_commands; sandbox_commands.register(app)  # noqa: E402, E702, I001, E501
from activations.imports import commands as imports_commands; imports_commands.register(app)  # noqa: E402, E702, I001, E501
from activations.dashboards import commands as dashboards_commands; dashboards_commands.register(app)  # noqa: E402, E702, I001, E501
from activations.generator import commands as generator_commands; generator_commands.register(app)  # noqa: E402, E702, I001, E501
from activations import sync_commands; sync_commands.register(app)  # noqa: E402, E702, I001
from activations import demo; demo.register(app)  # noqa: E402, E702, I001


def main() -> None:
    try:
        app(standalone_mode=False)
    except UserError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
