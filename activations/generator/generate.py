"""The entry point: validate, (re)create the raw tables, stream chunks into them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import duckdb

from activations.errors import UserError
from activations.generator.campaigns import build_campaigns
from activations.generator.catalog import build_catalog
from activations.generator.community import (
    build_product_tests,
    write_community,
    write_product_tests,
)
from activations.generator.simulate import simulate_chunk
from activations.generator.timeline import Timeline, resolve_end
from activations.generator.writer import Writer
from activations.warehouse.connections import connect_duckdb
from activations.warehouse.raw_schema import RAW_SCHEMA, RAW_TABLES, create_raw_schema_sql

MAX_CUSTOMERS = 50_000_000
OWN_MEMORY_LIMIT = "1GB"  # DuckDB's buffer pool when generate() opens the file itself
MAX_DAYS = 3650
# a chunk simulates at most this many customer-days at once (about 1 GB peak memory)
CHUNK_CUSTOMER_DAYS = 5_000 * 90


def validate(customers: object, days: object, chunk_customers: object, seed: object = 0) -> None:
    if (
        isinstance(customers, bool)
        or not isinstance(customers, int)
        or not 1 <= customers <= MAX_CUSTOMERS
    ):
        raise UserError(
            f"--customers must be a whole number from 1 to {MAX_CUSTOMERS:,}, got {customers!r}",
            hint="for example: activations generate --customers 10000 --days 90",
        )
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise UserError(
            f"--days must be a whole number from 1 to {MAX_DAYS}, got {days!r}",
            hint="the history spans this many days before --end",
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(
            f"--seed must be a whole number >= 0, got {seed!r}",
            hint="the same seed gives the same data",
        )
    if (
        isinstance(chunk_customers, bool)
        or not isinstance(chunk_customers, int)
        or chunk_customers < 1
    ):
        raise UserError(f"chunk_customers must be a positive whole number, got {chunk_customers!r}")


def effective_chunk(chunk_customers: int, days: int) -> int:
    """Customers per chunk: as asked, fewer for very long windows so a chunk fits in memory."""
    return max(1, min(chunk_customers, max(500, CHUNK_CUSTOMER_DAYS // days)))


def generate(
    con_or_path: duckdb.DuckDBPyConnection | str | Path | None,
    *,
    customers: int,
    days: int,
    seed: int = 42,
    end: datetime | None = None,
    chunk_customers: int = 50_000,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Replace the raw tables with a synthetic shop; returns row counts per table.

    ``con_or_path``: an open DuckDB connection, or a warehouse file path (None: ``DUCKDB_PATH``).
    ``end``: the end of the history (default: now, UTC, truncated to the hour).
    ``progress(done_customers, customers)`` is called after each chunk.
    """
    validate(customers, days, chunk_customers, seed)
    end = resolve_end(end)
    own = not isinstance(con_or_path, duckdb.DuckDBPyConnection)
    con = _connect(con_or_path) if own else con_or_path
    if own:  # DuckDB would otherwise keep up to 80% of RAM of written pages cached
        con.execute(f"set memory_limit = '{OWN_MEMORY_LIMIT}'")
        con.execute("set enable_progress_bar = false")
    try:
        return _generate(
            con,
            customers=customers,
            days=days,
            seed=seed,
            end=end,
            chunk=effective_chunk(chunk_customers, days),
            progress=progress,
        )
    finally:
        if own:
            con.close()


def _connect(path: str | Path | None) -> duckdb.DuckDBPyConnection:
    try:
        return connect_duckdb(path)
    except OSError as exc:  # e.g. a parent "directory" that is a file, or no permission
        raise UserError(
            f"cannot create the warehouse file {path}: {exc.strerror or exc}",
            hint="pass --warehouse with a path in a writable directory, or set DUCKDB_PATH",
        ) from None


def _generate(
    con: duckdb.DuckDBPyConnection,
    *,
    customers: int,
    days: int,
    seed: int,
    end: datetime,
    chunk: int,
    progress: Callable[[int, int], None] | None,
) -> dict[str, int]:
    timeline = Timeline.build(end, days)
    catalog = build_catalog(seed)
    campaigns = build_campaigns(timeline)
    product_tests = build_product_tests(seed, timeline, catalog)
    con.execute("begin transaction")
    try:
        for table in RAW_TABLES:
            con.execute(f"drop table if exists {RAW_SCHEMA}.{table}")
        for sql in create_raw_schema_sql():
            con.execute(sql)
        writer = Writer(con, seed, catalog, campaigns)
        writer.write_catalog(timeline.end_s - 3600)
        writer.write_campaigns()
        write_product_tests(con, product_tests, catalog)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    # one transaction per chunk keeps memory bounded; a failed run leaves part of the
    # data behind, and the next run replaces it
    done = 0
    for number, first in enumerate(range(0, customers, chunk)):
        n = min(chunk, customers - first)
        frames = simulate_chunk(
            seed, number, first + 1, n, timeline, catalog, campaigns, product_tests
        )
        con.execute("begin transaction")
        try:
            writer.write_chunk(frames)
            if frames.community is not None:
                write_community(
                    con, number, frames.people, frames.community, catalog, len(product_tests)
                )
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        del frames
        done += n
        if progress is not None:
            progress(done, customers)
    writer.close()
    return {
        t: con.execute(f"select count(*) from {RAW_SCHEMA}.{t}").fetchall()[0][0]
        for t in RAW_TABLES
    }
