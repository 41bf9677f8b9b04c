"""CDNOW (Fader & Hardie) purchase histories: ``CDNOW_master.txt`` and ``CDNOW_sample.txt``.

Lines are ``customer_id date number_of_cds dollar_value`` separated by runs of
spaces (the sample file has the sample id after the customer id); the master
file has a header line. An order is one customer-day, as the dataset's
authors define a transaction (Fader, Hardie & Lee: purchases of one day are one
transaction): all lines of a customer on one day become one order
``cdnow-<customer>-<yyyymmdd>``, each line one item of product ``cdnow-cd``
(quantity = number of CDs, line amount = dollar value, item order = file
order). So order counts, frequency and RFM scores count purchase days, and the
published summary is reproduced from the orders table as it is. Zero-dollar
lines are loaded and counted as ``zero_value``: the summaries count them as
purchase days.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from activations.errors import UserError
from activations.imports.lines import (
    FormatSpec,
    Stager,
    check_namespace,
    create_lines,
    file_kind,
)
from activations.imports.lines import sql_literal as lit

# customer [sample id] yyyymmdd cds dollars
LINE_PATTERN = r"^[0-9]+(\s+[0-9]+)?\s+[0-9]{8}\s+[0-9]+\s+-?[0-9]+(\.[0-9]+)?$"


def spec(namespace: str | None = None) -> FormatSpec:
    return FormatSpec(
        format="cdnow",
        namespace=check_namespace(namespace or "cdnow"),
        currency="USD",
        category="non-food",
        subcategory="music",
        load_zero_value=True,
    )


def lines_sql(path: Path) -> str:
    return f"""
    with src as (
        select ordinality as line_number, line
        from read_csv({lit(str(path))}, header = false, delim = '\\x01', quote = '', escape = '',
                      auto_detect = false, columns = {{'line': 'VARCHAR'}}) with ordinality
    ),
    split as (
        select
            line_number,
            line,
            regexp_matches(trim(line), '{LINE_PATTERN}') as well_formed,
            regexp_split_to_array(trim(line), '\\s+') as p
        from src
        -- a header line (first line, not starting with a digit) and blank lines are not data
        where trim(coalesce(line, '')) <> ''
          and not (line_number = 1 and not regexp_matches(trim(line), '^[0-9]'))
    ),
    fields as (
        select
            line_number,
            line,
            well_formed,
            case when well_formed then try_cast(p[1] as bigint) end as customer,
            case when well_formed then try_strptime(p[len(p) - 2], '%Y%m%d') end as bought_at,
            case when well_formed then try_cast(p[len(p) - 1] as integer) end as cds,
            case when well_formed then try_cast(p[len(p)] as decimal(12, 2)) end as dollars
        from split
    )
    select
        line_number,
        line as raw_line,
        case when not well_formed then 'malformed_line' end as reason,
        null as note,
        -- one order per customer-day (the CDNOW transaction); its lines are its items
        customer || '-' || strftime(bought_at, '%Y%m%d') as order_key,
        cast(customer as varchar) as customer_key,
        bought_at as placed_at,
        'item' as kind,
        'cd' as product_key,
        'CD' as sku,
        'CD (CDNOW)' as product_name,
        cds as quantity,
        null as unit_price,
        dollars as line_amount,
        null as currency,
        null as email,
        null as first_name,
        null as last_name,
        null as country,
        null as dedupe_key
    from fields
    """


def stage(con: duckdb.DuckDBPyConnection, path: Path, spec: FormatSpec) -> None:
    kind = file_kind(path)
    if kind != "text":
        raise UserError(
            f"{path} is a {kind} file, not a CDNOW text file",
            hint="CDNOW files are text lines 'customer_id date number_of_cds dollar_value'; "
            "for the UCI Parquet file use --format online-retail",
        )
    create_lines(con, lines_sql(path))
    total, malformed, first_bad = con.execute(
        "select count(*), count(*) filter (where reason = 'malformed_line'), "
        "min(line_number) filter (where reason = 'malformed_line') from import_lines"
    ).fetchall()[0]
    if total == 0 or malformed * 2 > total:
        raise UserError(
            f"{path} does not look like a CDNOW file"
            + (
                f": line {first_bad} is not 'customer_id yyyymmdd cds dollars'"
                if first_bad
                else ": it has no data lines"
            ),
            hint="check --format (online-retail, cdnow or csv) and the file",
        )


def plan(path: Path, namespace: str | None, **csv_options: object) -> tuple[FormatSpec, Stager]:
    """The spec and stager of ``path`` (fixed columns: the csv options do not apply)."""
    return spec(namespace), stage
