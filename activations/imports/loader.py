"""Land a staged order history into the raw tables, once.

Every format module fills one temporary table, ``import_lines``, with one row
per line of its file (the columns of ``LINE_COLUMNS``). From there the steps
are the same for all formats and all set-based SQL:

1. generic cleaning rules reject what no format may load (no customer, a
   quantity or price that is not positive, a duplicate line, an order with
   several customers, postage without goods);
2. the kept lines become orders, order items, customers and products, with
   ids prefixed by the import's namespace (``uci-536365``) so they never
   collide with ids the shop or the generator produce;
3. one transaction replaces the rows with the same natural keys (order ids),
   merges customers and products, writes the rejects and the ledger row.

Importing the same file twice adds nothing: a file already in ``raw.imports``
(same sha256, format and namespace) is skipped, and a changed file replaces
the orders it shares with earlier imports instead of adding them again.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from activations.errors import UserError
from activations.warehouse.connections import connect_duckdb
from activations.warehouse.raw_schema import RAW_SCHEMA, create_raw_schema_sql

FORMATS = ("online-retail", "cdnow", "csv")

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
]

IMPORT_TABLES: dict[str, list[tuple[str, str]]] = {
    "imports": [
        ("import_id", "varchar"),
        ("source_file", "varchar"),
        ("file_sha256", "varchar"),
        ("format", "varchar"),
        ("namespace", "varchar"),
        ("imported_at", "timestamp"),
        ("rows_read", "bigint"),
        ("rows_loaded", "bigint"),
        ("rows_rejected", "bigint"),
    ],
    "import_rejects": [
        ("import_id", "varchar"),
        ("source_file", "varchar"),
        ("line_number", "bigint"),
        ("reason", "varchar"),
        ("raw_line", "varchar"),
        ("rejected_at", "timestamp"),
    ],
}


@dataclass(frozen=True)
class FormatSpec:
    """What a format module tells the loader about its file."""

    format: str
    namespace: str  # id prefix: '<namespace>-<source id>'
    currency: str  # when a line names none
    category: str  # raw.products.category for its products: food | non-food
    subcategory: str | None = None
    load_zero_value: bool = False  # load zero-value lines (with a note) instead of rejecting


@dataclass
class ImportResult:
    import_id: str
    source_file: str
    format: str
    namespace: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    customers: int = 0
    products: int = 0
    already_imported: bool = False


# temporary tables an import creates on its connection (dropped when it ends)
TEMP_TABLES = (
    "import_lines",
    "new_orders",
    "new_order_items",
    "new_customers",
    "new_products",
    "csv_rows",
    "csv_errors",
    "csv_scans",
)

# stage(con, path, spec) fills temp table import_lines from the file
Stager = Callable[[duckdb.DuckDBPyConnection, Path, FormatSpec], None]


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in create_raw_schema_sql():
        con.execute(statement)
    for table, columns in IMPORT_TABLES.items():
        cols = ", ".join(f'"{name}" {type_}' for name, type_ in columns)
        con.execute(f"create table if not exists {RAW_SCHEMA}.{table} ({cols})")


def create_lines(con: duckdb.DuckDBPyConnection, select_sql: str) -> None:
    """Materialize a format's SELECT as ``import_lines`` with the canonical columns."""
    cols = ",\n  ".join(f"cast({name} as {type_}) as {name}" for name, type_ in LINE_COLUMNS)
    con.execute(
        f"create or replace temp table import_lines as select\n  {cols}\nfrom ({select_sql})"
    )


def check_namespace(namespace: str) -> str:
    """Id prefixes are short lowercase words: 'uci' gives 'uci-536365'."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,31}", namespace):
        raise UserError(
            f"namespace {namespace!r} is not a short lowercase word",
            hint="use letters, digits and '_', starting with a letter, e.g. --namespace shop2019",
        )
    return namespace


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_kind(path: Path) -> str:
    """'parquet', 'gzip' or 'text', from the first bytes of the file."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        return "parquet"
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    return "text"


def check_file(path: Path) -> Path:
    if not path.exists():
        raise UserError(f"{path}: no such file", hint="check the path of the file to import")
    if not path.is_file():
        raise UserError(f"{path} is a directory, not a file", hint="name one file to import")
    return path.resolve()


# Generic rules, in order: the first that matches is the line's reason.
def _generic_rules(spec: FormatSpec) -> list[tuple[str, str]]:
    zero = [] if spec.load_zero_value else [("zero_price", "kind = 'item' and line_amount = 0")]
    return [
        ("missing_order_id", "order_key is null or trim(order_key) = ''"),
        ("bad_date", "placed_at is null"),
        ("missing_customer", "customer_key is null or trim(customer_key) = ''"),
        ("missing_product", "kind = 'item' and (product_key is null or trim(product_key) = '')"),
        ("non_positive_quantity", "quantity is null or quantity <= 0"),
        ("missing_price", "line_amount is null"),
        ("negative_price", "line_amount < 0"),
        *zero,
    ]


def apply_rules(con: duckdb.DuckDBPyConnection, spec: FormatSpec) -> None:
    for reason, condition in _generic_rules(spec):
        con.execute(
            f"update import_lines set reason = '{reason}' where reason is null and ({condition})"
        )
    if spec.load_zero_value:
        con.execute(
            "update import_lines set note = 'zero_value' "
            "where reason is null and note is null and line_amount = 0"
        )
    # an exact repeat of an earlier line of the file (the first one is kept)
    con.execute(
        """
        update import_lines set reason = 'duplicate_line'
        where line_number in (
            select line_number from (
                select line_number,
                    row_number() over (partition by dedupe_key order by line_number) as nth
                from import_lines
                where reason is null and dedupe_key is not null
            ) where nth > 1
        )
        """
    )
    # one order, one person: an order whose lines name several customers is ambiguous
    con.execute(
        """
        update import_lines set reason = 'order_has_several_customers'
        where reason is null and order_key in (
            select order_key from import_lines where reason is null
            group by order_key having count(distinct customer_key) > 1
        )
        """
    )
    # postage with no goods left in the order
    con.execute(
        """
        update import_lines set reason = 'no_items_in_order'
        where reason is null and kind = 'shipping' and order_key not in (
            select order_key from import_lines where reason is null and kind = 'item'
        )
        """
    )


def latest(expr: str) -> str:
    """SQL: the value of ``expr`` on the group's latest line that has one."""
    return f"arg_max({expr}, row(placed_at, line_number)) filter (where {expr} is not null)"


def _stage_rows(con: duckdb.DuckDBPyConnection, spec: FormatSpec) -> None:
    ns = sql_literal(spec.namespace + "-")
    con.execute(
        f"""
        create or replace temp table new_orders as
        select
            {ns} || order_key as order_id,
            {ns} || min(customer_key) as customer_id,
            cast(null as varchar) as cart_id,
            min(placed_at) as placed_at,
            'shipped' as status,
            coalesce(min(currency), {sql_literal(spec.currency)}) as currency,
            coalesce(sum(line_amount) filter (where kind = 'item'), 0) as subtotal,
            cast(0 as decimal(12, 2)) as discount,
            coalesce(sum(line_amount) filter (where kind = 'shipping'), 0) as shipping,
            coalesce(sum(line_amount), 0) as total,
            cast(null as varchar) as coupon_code,
            max(placed_at) as updated_at
        from import_lines
        where reason is null
        group by order_key
        """
    )
    con.execute(
        f"""
        create or replace temp table new_order_items as
        select
            {ns} || order_key as order_id,
            row_number() over (partition by order_key order by line_number) as line_number,
            {ns} || product_key as product_id,
            quantity,
            coalesce(unit_price, round(line_amount / quantity, 2)) as unit_price
        from import_lines
        where reason is null and kind = 'item'
        """
    )
    con.execute(
        f"""
        create or replace temp table new_customers as
        select
            {ns} || customer_key as customer_id,
            {latest("email")} as email,
            cast(null as varchar) as phone,
            {latest("first_name")} as first_name,
            {latest("last_name")} as last_name,
            cast(null as date) as birth_date,
            {latest("country")} as country,
            min(placed_at) as created_at
        from import_lines
        where reason is null
        group by customer_key
        """
    )
    con.execute(
        f"""
        create or replace temp table new_products as
        select
            {ns} || product_key as product_id,
            {latest("coalesce(sku, product_key)")} as sku,
            {latest("product_name")} as name,
            {sql_literal(spec.category)} as category,
            {sql_literal(spec.subcategory) if spec.subcategory else "cast(null as varchar)"}
                as subcategory,
            {latest("coalesce(unit_price, round(line_amount / quantity, 2))")} as price,
            true as in_stock,
            false as replenishable,
            cast(null as integer) as replenish_cycle_days,
            cast(null as varchar) as image_url,
            cast(null as varchar) as product_url,
            max(placed_at) as updated_at
        from import_lines
        where reason is null and kind = 'item'
        group by product_key
        """
    )


def _counts(con: duckdb.DuckDBPyConnection, column: str) -> dict[str, int]:
    rows = con.execute(
        f"select {column}, count(*) from import_lines where {column} is not null "
        f"group by {column} order by count(*) desc, {column}"
    ).fetchall()
    return {str(key): int(n) for key, n in rows}


def _write(
    con: duckdb.DuckDBPyConnection,
    *,
    import_id: str,
    source_file: str,
    sha: str,
    spec: FormatSpec,
    now: datetime,
    totals: tuple[int, int, int],
) -> None:
    raw = RAW_SCHEMA
    con.execute("begin transaction")
    try:
        con.execute(
            f"delete from {raw}.order_items where order_id in (select order_id from new_orders)"
        )
        con.execute(f"delete from {raw}.orders where order_id in (select order_id from new_orders)")
        con.execute(f"insert into {raw}.orders by name select * from new_orders")
        con.execute(f"insert into {raw}.order_items by name select * from new_order_items")
        # customers and products may come from several files: merge, keep the earliest
        # creation and the latest known attributes
        con.execute(
            f"""
            update {raw}.customers as c set
                created_at = least(c.created_at, n.created_at),
                email = coalesce(n.email, c.email),
                first_name = coalesce(n.first_name, c.first_name),
                last_name = coalesce(n.last_name, c.last_name),
                country = coalesce(n.country, c.country)
            from new_customers as n
            where c.customer_id = n.customer_id
            """
        )
        con.execute(
            f"""
            insert into {raw}.customers by name
            select * from new_customers as n
            where n.customer_id not in (select customer_id from {raw}.customers
                                        where customer_id is not null)
            """
        )
        con.execute(
            f"""
            update {raw}.products as p set
                name = coalesce(n.name, p.name),
                price = n.price,
                updated_at = n.updated_at
            from new_products as n
            where p.product_id = n.product_id and n.updated_at >= p.updated_at
            """
        )
        con.execute(
            f"""
            insert into {raw}.products by name
            select * from new_products as n
            where n.product_id not in (select product_id from {raw}.products
                                       where product_id is not null)
            """
        )
        # the rejects of a file are those of its latest import
        con.execute(
            f"""
            delete from {raw}.import_rejects where import_id in (
                select import_id from {raw}.imports
                where source_file = ? and format = ? and namespace = ?
            )
            """,
            [source_file, spec.format, spec.namespace],
        )
        con.execute(
            f"""
            insert into {raw}.import_rejects
            select ?, ?, line_number, reason, raw_line, ?
            from import_lines where reason is not null order by line_number
            """,
            [import_id, source_file, now],
        )
        read, loaded, rejected = totals
        con.execute(
            f"insert into {raw}.imports values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [import_id, source_file, sha, spec.format, spec.namespace, now, read, loaded, rejected],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _previous(con: duckdb.DuckDBPyConnection, sha: str, spec: FormatSpec) -> ImportResult | None:
    rows = con.execute(
        f"""
        select import_id, source_file, rows_read, rows_loaded, rows_rejected
        from {RAW_SCHEMA}.imports
        where file_sha256 = ? and format = ? and namespace = ?
        order by imported_at desc limit 1
        """,
        [sha, spec.format, spec.namespace],
    ).fetchall()
    if not rows:
        return None
    import_id, source_file, read, loaded, rejected = rows[0]
    by_reason = con.execute(
        f"""
        select reason, count(*) from {RAW_SCHEMA}.import_rejects where import_id = ?
        group by reason order by count(*) desc, reason
        """,
        [import_id],
    ).fetchall()
    return ImportResult(
        import_id=import_id,
        source_file=source_file,
        format=spec.format,
        namespace=spec.namespace,
        rows_read=read,
        rows_loaded=loaded,
        rows_rejected=rejected,
        rejected_by_reason={r: int(n) for r, n in by_reason},
        already_imported=True,
    )


def land(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    spec: FormatSpec,
    stage: Stager,
    *,
    force: bool = False,
) -> ImportResult:
    """Stage ``path`` with ``stage``, clean it, and write it to the raw tables."""
    con.execute("set enable_progress_bar = false")
    ensure_tables(con)
    sha = file_sha256(path)
    if not force:
        previous = _previous(con, sha, spec)
        if previous is not None:
            return previous
    try:
        return _land_new(con, path, spec, stage, sha)
    finally:
        for table in TEMP_TABLES:
            con.execute(f"drop table if exists {table}")


def _land_new(
    con: duckdb.DuckDBPyConnection, path: Path, spec: FormatSpec, stage: Stager, sha: str
) -> ImportResult:
    try:
        stage(con, path, spec)
    except duckdb.Error as exc:
        first_line = str(exc).splitlines()[0]
        raise UserError(
            f"{path}: cannot read it as {spec.format}: {first_line}",
            hint="check --format (online-retail, cdnow or csv) and the file",
        ) from None
    apply_rules(con, spec)
    _stage_rows(con, spec)
    now = datetime.now(UTC).replace(tzinfo=None)
    import_id = f"{spec.namespace}-{now:%Y%m%dT%H%M%S%f}-{sha[:8]}"
    read, loaded, rejected = con.execute(
        "select count(*), count(*) filter (where reason is null), "
        "count(*) filter (where reason is not null) from import_lines"
    ).fetchall()[0]
    source_file = str(path)
    _write(
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
        for t in ("new_orders", "new_customers", "new_products")
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
    from activations.imports import cdnow, csv_mapping, online_retail

    source = check_file(Path(path))
    if format == "online-retail":
        spec, stage = online_retail.spec(namespace), online_retail.stage
    elif format == "cdnow":
        spec, stage = cdnow.spec(namespace), cdnow.stage
    elif format == "csv":
        plan = csv_mapping.resolve(
            source,
            mapping=mapping,
            mapping_file=Path(mapping_file) if mapping_file else None,
            namespace=namespace,
            date_format=date_format,
        )
        spec, stage = plan.spec, plan.stage
    else:
        raise UserError(
            f"unknown import format {format!r}", hint=f"use one of: {', '.join(FORMATS)}"
        )
    if format != "csv" and (mapping or mapping_file or date_format):
        raise UserError(
            f"--map, --mapping and --date-format apply to --format csv only, not {format}"
        )
    if con is not None:
        return land(con, source, spec, stage, force=force)
    connection = connect_duckdb(warehouse)
    try:
        return land(connection, source, spec, stage, force=force)
    finally:
        connection.close()
