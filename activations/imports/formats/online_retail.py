"""UCI "Online Retail" (dataset 352): invoice lines of a UK gift retailer, as Parquet.

Columns ``InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
CustomerID, Country``. One invoice becomes one order ``uci-<InvoiceNo>``, one
customer ``uci-<CustomerID>``, one stock code product ``uci-<StockCode>``.
Line numbers are 1-based rows of the Parquet file. The cleaning rules, first
match wins, are ``REJECT_RULES`` below followed by the generic ones
(``activations.imports.rules``).
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

COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]

# postage: charged on the order as shipping, not an item
SHIPPING_CODES = ("POST", "DOT", "C2")
# fees, manual corrections, discounts, samples, vouchers: not goods a person bought
NON_PRODUCT_CODES = ("M", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK")

# (reason, condition over the Parquet columns), first match wins
REJECT_RULES: list[tuple[str, str]] = [
    # a 'C' invoice is a credit note (cancellation or return) that does not name the
    # invoice it reverses, so it cannot be applied to an order: it is kept as a reject
    ("cancellation", "upper(InvoiceNo) like 'C%'"),
    ("bad_debt_adjustment", "upper(InvoiceNo) like 'A%'"),
    ("missing_customer", "CustomerID is null"),
    ("non_positive_quantity", "Quantity is null or Quantity <= 0"),
    ("negative_price", "UnitPrice < 0"),
    # price 0 or a line worth less than a cent
    ("zero_price", "UnitPrice is null or round(Quantity * UnitPrice, 2) = 0"),
    (
        "non_product_line",
        "upper(StockCode) in ("
        + ", ".join(lit(c) for c in NON_PRODUCT_CODES)
        + ") or StockCode like 'gift\\_%' escape '\\'",
    ),
]

# UCI country names -> ISO 3166-1 alpha-2 (unknown, 'Unspecified' and regions -> null)
COUNTRIES: dict[str, str] = {
    "Australia": "AU",
    "Austria": "AT",
    "Bahrain": "BH",
    "Belgium": "BE",
    "Brazil": "BR",
    "Canada": "CA",
    "Cyprus": "CY",
    "Czech Republic": "CZ",
    "Denmark": "DK",
    "EIRE": "IE",
    "Finland": "FI",
    "France": "FR",
    "Germany": "DE",
    "Greece": "GR",
    "Hong Kong": "HK",
    "Iceland": "IS",
    "Israel": "IL",
    "Italy": "IT",
    "Japan": "JP",
    "Lebanon": "LB",
    "Lithuania": "LT",
    "Malta": "MT",
    "Netherlands": "NL",
    "Norway": "NO",
    "Poland": "PL",
    "Portugal": "PT",
    "RSA": "ZA",
    "Saudi Arabia": "SA",
    "Singapore": "SG",
    "Spain": "ES",
    "Sweden": "SE",
    "Switzerland": "CH",
    "USA": "US",
    "United Arab Emirates": "AE",
    "United Kingdom": "GB",
}


def spec(namespace: str | None = None) -> FormatSpec:
    return FormatSpec(
        format="online-retail",
        namespace=check_namespace(namespace or "uci"),
        currency="GBP",
        category="non-food",
        subcategory="gifts",
    )


def lines_sql(path: Path) -> str:
    reason = "case " + " ".join(f"when {cond} then '{name}'" for name, cond in REJECT_RULES)
    countries = ", ".join(f"({lit(name)}, {lit(code)})" for name, code in COUNTRIES.items())
    shipping = ", ".join(lit(c) for c in SHIPPING_CODES)
    return f"""
    with src as (
        select * from read_parquet({lit(str(path))}, file_row_number = true)
    ),
    countries(country_name, country_code) as (values {countries})
    select
        file_row_number + 1 as line_number,
        to_json({{{", ".join(f"'{c}': {c}" for c in COLUMNS)}}}) as raw_line,
        {reason} end as reason,
        null as note,
        InvoiceNo as order_key,
        cast(cast(CustomerID as bigint) as varchar) as customer_key,
        -- UK local time to UTC
        timezone('UTC', timezone('Europe/London', InvoiceDate)) as placed_at,
        case when upper(StockCode) in ({shipping}) then 'shipping' else 'item' end as kind,
        StockCode as product_key,
        StockCode as sku,
        nullif(trim(Description), 'Unknown') as product_name,
        Quantity as quantity,
        round(UnitPrice, 2) as unit_price,
        round(Quantity * UnitPrice, 2) as line_amount,
        'GBP' as currency,
        null as email,
        null as first_name,
        null as last_name,
        countries.country_code as country,
        concat_ws('|', {", ".join(f"coalesce(cast({c} as varchar), '')" for c in COLUMNS)})
            as dedupe_key
    from src
    left join countries on src.Country = countries.country_name
    """


def stage(con: duckdb.DuckDBPyConnection, path: Path, spec: FormatSpec) -> None:
    if file_kind(path) != "parquet":
        raise UserError(
            f"{path} is not a Parquet file",
            hint="--format online-retail reads the UCI Online Retail Parquet file "
            "(online_retail.parquet); for a CSV export use --format csv with --map",
        )
    try:
        found = {
            row[0]
            for row in con.execute(
                f"describe select * from read_parquet({lit(str(path))})"
            ).fetchall()
        }
    except duckdb.Error as exc:
        raise UserError(f"{path}: cannot read it as Parquet: {exc}") from None
    missing = [c for c in COLUMNS if c not in found]
    if missing:
        raise UserError(
            f"{path} is not a UCI Online Retail file: column(s) {', '.join(missing)} missing",
            hint=f"expected columns {', '.join(COLUMNS)}; found {', '.join(sorted(found))}",
        )
    create_lines(con, lines_sql(path))


def plan(path: Path, namespace: str | None, **csv_options: object) -> tuple[FormatSpec, Stager]:
    """The spec and stager of ``path`` (fixed columns: the csv options do not apply)."""
    return spec(namespace), stage
