"""Land a staged order history into the raw tables, once.

Every format module (``formats/``) fills one temporary table, ``import_lines``,
with one row per line of its file (the columns of ``lines.LINE_COLUMNS``). From
there the steps are the same for all formats and all set-based SQL:

1. generic cleaning rules (``rules``) reject what no format may load (no
   customer, a quantity or price that is not positive, a duplicate line, an
   order with several customers, postage without goods);
2. the kept lines become orders, order items, customers and products
   (``staging``), with ids prefixed by the import's namespace (``uci-536365``)
   so they never collide with ids the shop or the generator produce;
3. one transaction (``write``) replaces the rows with the same natural keys
   (order ids), merges customers and products, writes the rejects and the
   ledger row.

Importing the same file twice adds nothing: a file already in ``raw.imports``
(same sha256, format and namespace; ``ledger``) is skipped, and a changed file
replaces the orders it shares with earlier imports instead of adding them again.

This module only orchestrates: it imports the formats, which import ``lines``
and nothing back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import duckdb

from activations.errors import UserError
from activations.imports.files import TextFacts, check_file, check_readable, file_sha256
from activations.imports.formats import CUSTOMER_FORMAT_MODULES, FORMAT_MODULES, FORMATS
from activations.imports.ledger import ImportResult, ensure_tables, previous_import
from activations.imports.lines import FormatSpec, Stager
from activations.imports.rules import apply_rules
from activations.imports.staging import stage_rows
from activations.imports.write import write
from activations.warehouse.connections import connect_duckdb

__all__ = ["FORMATS", "ImportResult", "import_customers", "import_orders", "land"]

# temporary tables an import creates on its connection (dropped when it ends)
TEMP_TABLES = (
    "import_lines",
    "new_orders",
    "new_order_items",
    "new_customers",
    "new_products",
    "new_consents",
    "csv_rows",
    "csv_errors",
    "csv_scans",
)


def _counts(con: duckdb.DuckDBPyConnection, column: str) -> dict[str, int]:
    rows = con.execute(
        f"select {column}, count(*) from import_lines where {column} is not null "
        f"group by {column} order by count(*) desc, {column}"
    ).fetchall()
    return {str(key): int(n) for key, n in rows}


def land(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    spec: FormatSpec,
    stage: Stager,
    *,
    force: bool = False,
    facts: TextFacts | None = None,
) -> ImportResult:
    """Stage ``path`` with ``stage``, clean it, and write it to the raw tables.
    ``facts`` (from ``files.check_readable``) let a truncated last line refuse the file."""
    con.execute("set enable_progress_bar = false")
    ensure_tables(con)
    sha = file_sha256(path)
    if not force:
        previous = previous_import(con, sha, spec)
        if previous is not None:
            return previous
    try:
        return _land_new(con, path, spec, stage, sha, facts)
    finally:
        for table in TEMP_TABLES:
            con.execute(f"drop table if exists {table}")


def _check_not_truncated(
    con: duckdb.DuckDBPyConnection, path: Path, facts: TextFacts | None
) -> None:
    """A last line that is cut short (no line break after it, and not a whole record)
    means the file was truncated: refuse it rather than load the part before."""
    if facts is None or facts.ends_with_newline or facts.lines == 0:
        return
    (cut,) = con.execute(
        "select count(*) from import_lines where line_number = ? and reason = 'malformed_line'",
        [facts.lines],
    ).fetchall()[0]
    if cut:
        raise UserError(
            f"{path}: line {facts.lines} (the last) is cut short and has no line break: the "
            "file looks truncated (the export, copy or download stopped early); nothing was "
            "imported",
            hint="export or download the file again; if the last line is complete, "
            "end it with a line break",
        )


def _land_new(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    spec: FormatSpec,
    stage: Stager,
    sha: str,
    facts: TextFacts | None = None,
) -> ImportResult:
    try:
        stage(con, path, spec)
    except duckdb.Error as exc:
        first_line = str(exc).splitlines()[0]
        raise UserError(
            f"{path}: cannot read it as {spec.format}: {first_line}; nothing was imported",
            hint="check --format (online-retail, cdnow or csv) and the file",
        ) from None
    _check_not_truncated(con, path, facts)
    apply_rules(con, spec)
    stage_rows(con, spec)
    now = datetime.now(UTC).replace(tzinfo=None)
    import_id = f"{spec.namespace}-{now:%Y%m%dT%H%M%S%f}-{sha[:8]}"
    read, loaded, rejected = con.execute(
        "select count(*), count(*) filter (where reason is null), "
        "count(*) filter (where reason is not null) from import_lines"
    ).fetchall()[0]
    source_file = str(path)
    write(
        con,
        import_id=import_id,
        source_file=source_file,
        sha=sha,
        spec=spec,
        now=now,
        totals=(read, loaded, rejected),
    )
    sizes = [
        con.execute(f"select count(*) from {t}").fetchall()[0][0]
        for t in ("new_orders", "new_customers", "new_products", "new_consents")
    ]
    return ImportResult(
        import_id=import_id,
        source_file=source_file,
        format=spec.format,
        namespace=spec.namespace,
        rows_read=read,
        rows_loaded=loaded,
        rows_rejected=rejected,
        rejected_by_reason=_counts(con, "reason"),
        notes=_counts(con, "note"),
        orders=sizes[0],
        customers=sizes[1],
        products=sizes[2],
        consents=sizes[3],
    )


def import_orders(
    path: Path | str,
    format: str,
    *,
    warehouse: Path | str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    mapping: dict[str, str] | None = None,
    mapping_file: Path | str | None = None,
    namespace: str | None = None,
    date_format: str | None = None,
    force: bool = False,
) -> ImportResult:
    """Import one order-history file into the warehouse's raw tables.

    ``format`` is ``online-retail`` (the UCI Parquet file), ``cdnow`` (the
    CDNOW master or sample text file) or ``csv`` (any CSV, with ``mapping``
    and/or ``mapping_file`` naming its columns). Pass ``con`` to use an open
    connection, else ``warehouse`` (default: ``DUCKDB_PATH``) is opened.
    """
    return _import(
        FORMAT_MODULES,
        path,
        format,
        warehouse=warehouse,
        con=con,
        mapping=mapping,
        mapping_file=mapping_file,
        namespace=namespace,
        date_format=date_format,
        force=force,
    )


def import_customers(
    path: Path | str,
    format: str = "csv",
    *,
    warehouse: Path | str | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    mapping: dict[str, str] | None = None,
    mapping_file: Path | str | None = None,
    namespace: str | None = None,
    date_format: str | None = None,
    force: bool = False,
) -> ImportResult:
    """Import a file of customers (with or without orders) and their consent into
    ``raw.customers`` and ``raw.consents`` (source ``import``); the same steps,
    rejects, line numbers and ledger as ``import_orders``. ``format``: ``csv``."""
    return _import(
        CUSTOMER_FORMAT_MODULES,
        path,
        format,
        warehouse=warehouse,
        con=con,
        mapping=mapping,
        mapping_file=mapping_file,
        namespace=namespace,
        date_format=date_format,
        force=force,
    )


def _import(
    modules: dict[str, ModuleType],
    path: Path | str,
    format: str,
    *,
    warehouse: Path | str | None,
    con: duckdb.DuckDBPyConnection | None,
    mapping: dict[str, str] | None,
    mapping_file: Path | str | None,
    namespace: str | None,
    date_format: str | None,
    force: bool,
) -> ImportResult:
    source = check_file(Path(path))
    module = modules.get(format)
    if module is None:
        raise UserError(
            f"unknown import format {format!r}", hint=f"use one of: {', '.join(modules)}"
        )
    # the whole file is read once before anything else: a truncated, binary or
    # wrongly encoded file is refused here, naming its line, before any table is touched
    facts = check_readable(source)
    spec, stage = module.plan(
        source,
        namespace,
        mapping=mapping,
        mapping_file=Path(mapping_file) if mapping_file else None,
        date_format=date_format,
    )
    if format != "csv" and (mapping or mapping_file or date_format):
        raise UserError(
            f"--map, --mapping and --date-format apply to --format csv only, not {format}"
        )
    if con is not None:
        return land(con, source, spec, stage, force=force, facts=facts)
    connection = connect_duckdb(warehouse)
    try:
        return land(connection, source, spec, stage, force=force, facts=facts)
    finally:
        connection.close()
