"""The staged line: what every format module produces, and the helpers it uses.

A format module (``activations.imports.formats``) reads its file into one
temporary table, ``import_lines``, with the columns of ``LINE_COLUMNS``, one
row per line of the file, and describes the import with a ``FormatSpec``.
This module imports nothing else of ``activations.imports``: formats depend on
it, never on the loader.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from activations.errors import UserError

# The staged line: what every format module produces, one row per file line.
LINE_COLUMNS: list[tuple[str, str]] = [
    ("line_number", "bigint"),  # 1-based line (row, for Parquet) in the file
    ("raw_line", "varchar"),  # the line as read, for the rejects table
    ("reason", "varchar"),  # null = load it; else why it is rejected
    ("note", "varchar"),  # loaded, but counted apart (e.g. zero_value)
    ("order_key", "varchar"),  # source order id, not yet namespaced
    ("customer_key", "varchar"),
    ("placed_at", "timestamp"),  # UTC
    ("kind", "varchar"),  # item | shipping (postage charged on the order)
    ("product_key", "varchar"),
    ("sku", "varchar"),
    ("product_name", "varchar"),
    ("quantity", "integer"),
    ("unit_price", "decimal(12,2)"),  # null = line_amount / quantity
    ("line_amount", "decimal(12,2)"),
    ("currency", "varchar"),
    ("email", "varchar"),
    ("first_name", "varchar"),
    ("last_name", "varchar"),
    ("country", "varchar"),  # ISO 3166-1 alpha-2
    ("dedupe_key", "varchar"),  # equal keys = duplicate lines (null: never)
    # customer imports (``activations import customers``); null in order imports
    ("phone", "varchar"),
    ("birth_date", "date"),
    ("created_at", "timestamp"),  # UTC; order imports take the first order instead
    ("consent_status", "varchar"),  # subscribed | unsubscribed | bounced | spam_complaint
    ("consent_changed_at", "timestamp"),  # UTC: when the file says the consent changed
    ("consent_source", "varchar"),  # where the file says the consent came from
    ("double_opt_in_confirmed_at", "timestamp"),  # UTC; only when the file gives the date
]

# the moments an import accepts: 0001-01-01 and 9999-12-31 are the placeholders of
# exports ("no date"), not real orders or sign-ups; nothing happens in the future
EARLIEST = "1970-01-01"
EARLIEST_BIRTH_DATE = "1900-01-01"
LATEST_SQL = "(cast(current_timestamp as timestamp) + interval 1 day)"


@dataclass(frozen=True)
class FormatSpec:
    """What a format module tells the loader about its file."""

    format: str
    namespace: str  # id prefix: '<namespace>-<source id>'
    currency: str  # when a line names none
    category: str  # raw.products.category for its products: food | non-food
    subcategory: str | None = None
    load_zero_value: bool = False  # load zero-value lines (with a note) instead of rejecting
    entity: str = "orders"  # what the file holds: orders (order lines) | customers


# stage(con, path, spec) fills temp table import_lines from the file
Stager = Callable[[duckdb.DuckDBPyConnection, Path, FormatSpec], None]


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_lines(con: duckdb.DuckDBPyConnection, select_sql: str) -> None:
    """Materialize a format's SELECT as ``import_lines`` with the canonical columns
    (a column the SELECT does not have is null)."""
    present = {row[0] for row in con.execute(f"describe select * from ({select_sql})").fetchall()}
    cols = ",\n  ".join(
        f"cast({name if name in present else 'null'} as {type_}) as {name}"
        for name, type_ in LINE_COLUMNS
    )
    con.execute(
        f"create or replace temp table import_lines as select\n  {cols}\nfrom ({select_sql})"
    )


# ISO 8601 with a time and an offset: '2024-01-05 10:00+05:00', '2024-01-05T10:00:00Z'
OFFSET_PATTERN = (
    r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
    r"\s*(Z|z|[+-][0-9]{2}(:?[0-9]{2})?)\s*$"
)


def utc_timestamp_sql(text: str, date_format: str | None) -> str:
    """SQL: the text ``text`` as a UTC timestamp (naive), or null when it does not parse.

    With an offset (``+05:00``, ``Z``, or ``%z`` in ``date_format``) the moment is
    converted to UTC; without one the text is taken as UTC already. Never through
    the session time zone.
    """
    if date_format:
        parsed = f"try_strptime({text}, {sql_literal(date_format)})"
        return f"timezone('UTC', {parsed})" if "%z" in date_format else parsed
    return (
        f"case when regexp_matches({text}, {sql_literal(OFFSET_PATTERN)}) "
        f"then timezone('UTC', try_cast({text} as timestamptz)) "
        f"else try_cast({text} as timestamp) end"
    )


def check_namespace(namespace: str) -> str:
    """Id prefixes are short lowercase words: 'uci' gives 'uci-536365'."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", namespace):
        raise UserError(
            f"namespace {namespace!r} is not a short lowercase word",
            hint="use letters, digits and '_', starting with a letter, e.g. --namespace shop2019",
        )
    return namespace


def file_kind(path: Path) -> str:
    """'parquet', 'gzip', 'zip' or 'text', from the first bytes of the file."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head == b"PK\x03\x04":
        return "zip"
    return "text"
