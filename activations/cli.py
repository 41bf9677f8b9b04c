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
from activations.coupons import commands as coupons_commands
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
    coupons_commands,
    demo,
):
    area.register(app)


def _fail(message: str, code: int) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    sys.exit(code)


def main() -> None:
    """Run the command line: typer reports usage errors itself (standalone mode);
    a ``UserError`` from any command becomes one red line and its exit code.
    Ctrl-C (SIGINT) ends any command with one line and exit code 130 (a command
    with its own graceful stop handles it first); a warehouse file DuckDB finds
    corrupted when reading it is one line and exit code 2."""
    try:
        app()
    except UserError as exc:
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _interrupted()
    except SystemExit as exc:
        # typer turns Ctrl-C into a silent exit 130: say what happened
        if exc.code == 130 and _caused_by_ctrl_c(exc):
            _interrupted()
        raise
    except Exception as exc:
        if _is_corrupt_warehouse(exc):
            _fail(
                f"the warehouse file is corrupted ({' '.join(str(exc).split())[:200]})\n"
                "  → restore it from a backup, or rebuild it (`activations generate`, "
                "then `activations build`)",
                2,
            )
        raise


def _interrupted() -> None:
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "the command")
    _fail(
        f"interrupted (Ctrl-C): `activations {command}` stopped; what it had "
        "committed stays, the rest was not written; rerun it to finish",
        130,
    )


def _caused_by_ctrl_c(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _is_corrupt_warehouse(exc: Exception) -> bool:
    module = type(exc).__module__
    return module.startswith(("duckdb", "_duckdb")) and "corrupt" in str(exc).lower()


if __name__ == "__main__":
    main()
