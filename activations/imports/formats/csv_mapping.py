"""Any order-line CSV, with a mapping from our fields to its columns.

The mapping comes from ``--map order_id=InvoiceNo,customer_id=CustomerID,...``
and/or a YAML file (``--mapping``)::

    namespace: shop2019          # id prefix (default: csv)
    date_format: "%m/%d/%Y %H:%M"  # strptime format of placed_at (default: ISO)
    currency: EUR                # when no currency column is mapped (default: EUR)
    delimiter: ";"               # default: the one the header line uses most
    columns:
      order_id: InvoiceNo
      customer_id: CustomerID
      ...

One row is one order line; rows of one order share ``order_id``. All values are
read as text and converted here, so a bad value rejects its line (``bad_date``,
``bad_quantity``, ``bad_price``) and a record DuckDB cannot parse (a wrong number
of fields, an unclosed quote) rejects it as ``malformed_line``, instead of
failing the import. The delimiter is the one of , ; tab | the header uses most
(or ``delimiter:`` in the YAML file); quotes are ". Line numbers are file lines,
header = line 1 (exact unless a quoted field spans lines). Timestamps without an
offset are taken as UTC; one with an offset (``+05:00``, ``Z``) is converted to UTC.
A quantity must be a whole number (``2`` or ``2.0``): ``2.5`` is ``fractional_quantity``.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from activations.errors import UserError
from activations.imports.lines import (
    FormatSpec,
    Stager,
    check_namespace,
    create_lines,
    file_kind,
    utc_timestamp_sql,
)
from activations.imports.lines import sql_literal as lit

REQUIRED = ("order_id", "customer_id", "placed_at", "product_id", "quantity", "unit_price")
OPTIONAL = (
    "product_name",
    "email",
    "first_name",
    "last_name",
    "country",
    "currency",
    "status",
)

# status values of a completed order; cancelled/refunded ones are rejected with their reason
COMPLETED_STATUSES = ("paid", "shipped", "completed", "complete", "delivered", "fulfilled")
CANCELLED_STATUSES = ("cancelled", "canceled", "cancellation", "voided", "void")
RETURNED_STATUSES = ("refunded", "returned", "return", "refund")
SETTINGS = ("namespace", "date_format", "currency", "delimiter", "columns")
DELIMITERS = (",", ";", "\t", "|")

# lines_sql(columns, header, date_format) -> the SELECT of import_lines
LinesSql = Callable[[dict[str, str], list[str], "str | None"], str]


@dataclass(frozen=True)
class CsvKind:
    """What a mapped CSV holds: its fields and how its rows become import lines.
    Order lines here (``ORDERS``); customers in ``customers_csv.CUSTOMERS``."""

    format: str  # the ledger's format name
    entity: str  # FormatSpec.entity
    required: tuple[str, ...]
    optional: tuple[str, ...]
    lines_sql: LinesSql

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True)
class CsvPlan:
    spec: FormatSpec
    kind: CsvKind
    columns: dict[str, str]  # our field -> CSV column
    dialect: Dialect
    date_format: str | None

    def stage(self, con: duckdb.DuckDBPyConnection, path: Path, spec: FormatSpec) -> None:
        read_rows(con, path, self.dialect)
        create_lines(con, self.kind.lines_sql(self.columns, self.dialect.columns, self.date_format))


def parse_map_option(text: str) -> dict[str, str]:
    """``order_id=InvoiceNo,customer_id=CustomerID`` -> {field: column}."""
    pairs: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        target, sep, column = item.partition("=")
        if not sep or not target.strip() or not column.strip():
            raise UserError(
                f"--map: {item!r} is not field=column",
                hint="e.g. --map order_id=InvoiceNo,customer_id=CustomerID,placed_at=InvoiceDate",
            )
        pairs[target.strip()] = column.strip()
    return pairs


def read_mapping_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise UserError(f"mapping file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"mapping file {path}{where}: not valid YAML") from None
    if not isinstance(data, dict):
        raise UserError(f"mapping file {path}: expected a mapping with a 'columns:' section")
    unknown = [key for key in data if key not in SETTINGS]
    if unknown:
        raise UserError(
            f"mapping file {path}: unknown key(s) {', '.join(map(str, unknown))}",
            hint=f"keys are {', '.join(SETTINGS)}",
        )
    columns = data.get("columns") or {}
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise UserError(f"mapping file {path}: 'columns:' must map each field to a column name")
    return data


@dataclass(frozen=True)
class Dialect:
    delimiter: str
    columns: list[str]  # the header, in order


def read_header(path: Path, delimiter: str | None = None) -> Dialect:
    """The header line (line 1) and the delimiter: given, or the one it uses most."""
    opener = gzip.open if file_kind(path) == "gzip" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except UnicodeDecodeError:
        raise UserError(
            f"{path}: line 1 is not UTF-8 text", hint="save the file as UTF-8 CSV"
        ) from None
    if not first.strip():
        raise UserError(f"{path}: line 1 is empty; a CSV import needs a header line")
    if delimiter is None:
        delimiter = max(DELIMITERS, key=first.count)
    columns = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter))
    return Dialect(delimiter=delimiter, columns=[c.strip() for c in columns])


def resolve(
    path: Path,
    *,
    mapping: dict[str, str] | None,
    mapping_file: Path | None,
    namespace: str | None,
    date_format: str | None,
    kind: CsvKind | None = None,
) -> CsvPlan:
    """Check the mapping against our fields (``kind``'s, default order lines) and the
    file's header."""
    kind = kind or ORDERS
    if file_kind(path) == "parquet":
        raise UserError(
            f"{path} is a Parquet file, not a CSV",
            hint="for the UCI Online Retail Parquet file use --format online-retail",
        )
    settings = read_mapping_file(mapping_file) if mapping_file else {}
    columns: dict[str, str] = {**settings.get("columns", {}), **(mapping or {})}
    source = (
        " and ".join(
            ([f"mapping file {mapping_file}"] if mapping_file else [])
            + (["--map"] if mapping else [])
        )
        or "--map"
    )
    unknown = [f for f in columns if f not in kind.fields]
    if unknown:
        raise UserError(
            f"{source}: unknown field(s) {', '.join(unknown)} in the mapping for {path.name}",
            hint=f"fields are {', '.join(kind.fields)}",
        )
    missing = [f for f in kind.required if f not in columns]
    if missing:
        raise UserError(
            f"{source}: no column given for required field(s) {', '.join(missing)} "
            f"to import {path.name}",
            hint="e.g. --map " + ",".join(f"{f}=<column>" for f in missing),
        )
    dialect = read_header(path, settings.get("delimiter"))
    found = dialect.columns
    absent = [(f, c) for f, c in columns.items() if c not in found]
    if absent:
        named = ", ".join(f"{c!r} (for {f})" for f, c in absent)
        raise UserError(
            f"{path}: line 1 (header) has no column {named}",
            hint=f"its columns are: {', '.join(found)}",
        )
    spec = FormatSpec(
        format=kind.format,
        namespace=check_namespace(namespace or settings.get("namespace") or "csv"),
        currency=str(settings.get("currency") or "EUR").upper(),
        category="non-food",
        entity=kind.entity,
    )
    return CsvPlan(
        spec=spec,
        kind=kind,
        columns=columns,
        dialect=dialect,
        date_format=date_format or settings.get("date_format"),
    )


def plan(
    path: Path,
    namespace: str | None,
    *,
    mapping: dict[str, str] | None = None,
    mapping_file: Path | None = None,
    date_format: str | None = None,
) -> tuple[FormatSpec, Stager]:
    """The spec and stager of ``path``, from its mapping (see ``resolve``)."""
    resolved = resolve(
        path,
        mapping=mapping,
        mapping_file=mapping_file,
        namespace=namespace,
        date_format=date_format,
    )
    return resolved.spec, resolved.stage


def _ident(column: str) -> str:
    return 'src."' + column.replace('"', '""') + '"'


def col(columns: dict[str, str], field: str) -> str:
    """The trimmed text of a mapped column, or null."""
    if field not in columns:
        return "cast(null as varchar)"
    return f"nullif(trim({_ident(columns[field])}), '')"


def read_rows(con: duckdb.DuckDBPyConnection, path: Path, dialect: Dialect) -> None:
    """Temp tables ``csv_rows`` (each parsed record, in file order) and ``csv_errors``
    (records DuckDB could not parse, e.g. a wrong number of fields, with their line)."""
    types = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in dialect.columns) + "}"
    for table in ("csv_errors", "csv_scans"):
        con.execute(f"drop table if exists {table}")
    try:
        con.execute(
            f"""
            create or replace temp table csv_rows as
            select * from read_csv({lit(str(path))}, header = true, auto_detect = false,
                delim = {lit(dialect.delimiter)}, quote = '"', escape = '"', columns = {types},
                store_rejects = true, rejects_table = 'csv_errors', rejects_scan = 'csv_scans')
            with ordinality
            """
        )
    except duckdb.Error as exc:
        raise UserError(f"{path}: cannot read it as CSV: {str(exc).splitlines()[0]}") from None


def row_json(header: list[str]) -> str:
    """SQL: the record as a JSON object of its columns (the rejects' ``raw_line``)."""
    return "cast(to_json({" + ", ".join(f"{lit(h)}: {_ident(h)}" for h in header) + "}) as varchar)"


# the parsed records with their file line (``src``), and the unparsable ones
SOURCE_CTES = """
    bad_lines as (
        select line, min(csv_line) as csv_line from csv_errors group by line
    ),
    -- the file lines of the parsed records: every data line but the unparsable ones
    good_lines as (
        select
            l.line,
            row_number() over (order by l.line) as ordinality
        from range(
            2, 2 + (select count(*) from csv_rows) + (select count(*) from bad_lines)
        ) as l(line)
        where l.line not in (select line from bad_lines)
    ),
    src as (
        select good_lines.line as _file_line, csv_rows.*
        from csv_rows join good_lines using (ordinality)
    )"""

MALFORMED_LINES = """
    select
        line as line_number,
        csv_line as raw_line,
        'malformed_line' as reason
    from bad_lines"""

# a whole number: '2', '+2', '2.0' (a spreadsheet's '2.0'), not '2.5'
WHOLE_NUMBER = r"^\s*[+-]?[0-9]+(\.0*)?\s*$"
DECIMAL_NUMBER = r"^\s*[+-]?[0-9]*\.[0-9]+\s*$"


def whole_number_sql(text: str) -> str:
    """SQL: ``text`` as an integer when it is a whole number, else null."""
    return (
        f"case when regexp_matches({text}, {lit(WHOLE_NUMBER)}) "
        f"then try_cast(try_cast({text} as decimal(38, 6)) as integer) end"
    )


def lines_sql(columns: dict[str, str], header: list[str], date_format: str | None) -> str:
    c = {f: col(columns, f) for f in ORDERS.fields}
    row = row_json(header)
    placed = utc_timestamp_sql(c["placed_at"], date_format)
    quantity = whole_number_sql(c["quantity"])
    price = f"try_cast({c['unit_price']} as decimal(12, 2))"
    status = f"lower({c['status']})"
    statuses = ", ".join(lit(s) for s in COMPLETED_STATUSES)
    # a numeric id exported from a spreadsheet often comes as '17850.0'
    customer = f"regexp_replace({c['customer_id']}, '^([0-9]+)\\.0+$', '\\1')"
    return f"""
    with {SOURCE_CTES}
    select
        _file_line as line_number,
        {row} as raw_line,
        case
            when {c["placed_at"]} is not null and {placed} is null then 'bad_date'
            when {quantity} is null and regexp_matches({c["quantity"]}, {lit(DECIMAL_NUMBER)})
                then 'fractional_quantity'
            when {c["quantity"]} is not null and {quantity} is null then 'bad_quantity'
            when {c["unit_price"]} is not null and {price} is null then 'bad_price'
            when {status} in ({", ".join(lit(s) for s in CANCELLED_STATUSES)})
                then 'cancellation'
            when {status} in ({", ".join(lit(s) for s in RETURNED_STATUSES)}) then 'return'
            when {status} is not null and {status} not in ({statuses}) then 'not_completed'
        end as reason,
        null as note,
        {c["order_id"]} as order_key,
        {customer} as customer_key,
        {placed} as placed_at,
        'item' as kind,
        {c["product_id"]} as product_key,
        {c["product_id"]} as sku,
        {c["product_name"]} as product_name,
        {quantity} as quantity,
        {price} as unit_price,
        round({quantity} * {price}, 2) as line_amount,
        upper({c["currency"]}) as currency,
        {c["email"]} as email,
        {c["first_name"]} as first_name,
        {c["last_name"]} as last_name,
        case when length({c["country"]}) = 2 then upper({c["country"]}) end as country,
        {row} as dedupe_key
    from src
    union all by name
    {MALFORMED_LINES}
    """


ORDERS = CsvKind(
    format="csv", entity="orders", required=REQUIRED, optional=OPTIONAL, lines_sql=lines_sql
)
