"""``activations generate``: fill the warehouse's raw tables with a synthetic shop."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from activations.errors import UserError
from activations.generator.generate import MAX_CUSTOMERS, MAX_DAYS, generate
from activations.paths import duckdb_path

console = Console()


def _parse_end(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise UserError(
            f"--end {value!r} is not an ISO date or time",
            hint="for example --end 2026-11-23T12:00 (UTC) or --end 2026-11-23",
        ) from None


def _parse_count(option: str, value: str, example: str) -> int:
    """Whole numbers, also written 100_000 or 100,000; a clear message otherwise."""
    text = value.strip().replace("_", "").replace(",", "")
    if not text.lstrip("-").isdigit():
        raise UserError(
            f"{option} must be a whole number, got {value!r}",
            hint=f"for example: activations generate {example}",
        )
    return int(text)


def generate_command(
    customers: Annotated[
        str, typer.Option(metavar="N", help=f"How many customers (1 to {MAX_CUSTOMERS:,}).")
    ] = "10000",
    days: Annotated[
        str, typer.Option(metavar="D", help=f"Days of history before --end (1 to {MAX_DAYS}).")
    ] = "90",
    seed: Annotated[str, typer.Option(metavar="S", help="Same seed, same data.")] = "42",
    end: Annotated[
        str | None,
        typer.Option(help="End of the history, ISO (UTC). Default: now, truncated to the hour."),
    ] = None,
    warehouse: Annotated[
        Path | None, typer.Option(help="DuckDB file. Default: DUCKDB_PATH or ./warehouse.duckdb.")
    ] = None,
    chunk_customers: Annotated[
        int, typer.Option(help="Customers simulated and written per chunk.")
    ] = 50_000,
    via_collector: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Send the track and identify calls to this event collector (/v1/batch) "
            "instead of writing raw.events and raw.identifies directly.",
        ),
    ] = None,
    write_key: Annotated[
        str | None,
        typer.Option(envvar="ACTIVATIONS_WRITE_KEY", help="The collector's write key."),
    ] = None,
) -> None:
    """Replace the raw tables with a synthetic grocery e-shop (visits, orders, consent, email)."""
    n_customers = _parse_count("--customers", customers, "--customers 10000 --days 90")
    n_days = _parse_count("--days", days, "--customers 10000 --days 90")
    n_seed = _parse_count("--seed", seed, "--customers 10000 --seed 7")
    target = warehouse if warehouse is not None else duckdb_path()
    started = time.perf_counter()
    if via_collector:
        counts = _via_collector(
            via_collector, write_key, target, n_customers, n_days, n_seed, end, chunk_customers
        )
    else:
        counts = generate(
            target,
            customers=n_customers,
            days=n_days,
            seed=n_seed,
            end=_parse_end(end),
            chunk_customers=chunk_customers,
        )
    elapsed = time.perf_counter() - started
    table = Table(title=f"raw tables in {target}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    console.print(
        f"{n_customers:,} customers x {n_days} days, seed {n_seed}: "
        f"{sum(counts.values()):,} rows in {elapsed:.1f} s"
    )


def _via_collector(
    url: str,
    write_key: str | None,
    target: Path,
    customers: int,
    days: int,
    seed: int,
    end: str | None,
    chunk_customers: int,
) -> dict[str, int]:
    """The shop's own tables straight into the warehouse, its calls through the collector."""
    from activations.collect.client import generate_via_collector

    if not write_key:
        raise UserError(
            "--via-collector needs the collector's write key",
            hint="pass --write-key KEY or set ACTIVATIONS_WRITE_KEY",
        )
    counts, sent = generate_via_collector(
        url,
        write_key,
        target,
        customers=customers,
        days=days,
        seed=seed,
        end=_parse_end(end),
        chunk_customers=chunk_customers,
    )
    console.print(
        f"through the collector at {url}: {sent.acknowledged:,} calls acknowledged "
        f"in {sent.requests:,} /v1/batch requests ({sent.retries} retried, {sent.refused} refused)"
    )
    return {**counts, "calls via collector": sent.acknowledged}


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_command)
