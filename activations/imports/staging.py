"""The kept lines of ``import_lines`` as the rows to write: temp tables
``new_orders``, ``new_order_items``, ``new_customers``, ``new_products`` and
``new_consents``, with ids prefixed by the import's namespace (``uci-536365``).

An order import fills the first four (its customers are created at their first
order) and no consent; a customer import (``spec.entity == 'customers'``) fills
``new_customers`` from the file's own dates and ``new_consents`` from its consent
columns, and leaves the order tables empty. ``write`` then writes both the same way.
"""

from __future__ import annotations

import duckdb

from activations.imports.lines import FormatSpec, sql_literal
from activations.warehouse.raw_schema import RAW_SCHEMA


def latest(expr: str) -> str:
    """SQL: the value of ``expr`` on the group's latest line that has one."""
    return f"arg_max({expr}, row(placed_at, line_number)) filter (where {expr} is not null)"


def stage_rows(con: duckdb.DuckDBPyConnection, spec: FormatSpec) -> None:
    if spec.entity == "customers":
        _stage_customers(con, spec)
    else:
        _stage_orders(con, spec)


# a consent row's id: the same statement (person, status, moments) gives the same id,
# so importing it again, from this file or another, adds nothing
CONSENT_ID = (
    "'import-' || substr(sha256(concat_ws('|', {ns}, customer_key, consent_status, "
    "cast(consent_changed_at as varchar), coalesce(cast(double_opt_in_confirmed_at as varchar), "
    "''))), 1, 24)"
)


def _stage_customers(con: duckdb.DuckDBPyConnection, spec: FormatSpec) -> None:
    ns = sql_literal(spec.namespace + "-")
    for table in ("new_orders", "new_order_items", "new_products"):
        source = f"{RAW_SCHEMA}.{table.removeprefix('new_')}"
        con.execute(f"create or replace temp table {table} as select * from {source} limit 0")
    con.execute(
        f"""
        create or replace temp table new_customers as
        select
            {ns} || customer_key as customer_id,
            email,
            phone,
            first_name,
            last_name,
            birth_date,
            country,
            created_at
        from import_lines
        where reason is null
        """
    )
    con.execute(
        f"""
        create or replace temp table new_consents as
        select
            {CONSENT_ID.format(ns=ns)} as consent_id,
            {ns} || customer_key as customer_id,
            email,
            'email' as channel,
            consent_status as status,
            'import' as source,
            double_opt_in_confirmed_at,
            consent_changed_at as changed_at,
            line_number,
            consent_source as stated_source
        from import_lines
        where reason is null and consent_status is not null
        """
    )


def _stage_orders(con: duckdb.DuckDBPyConnection, spec: FormatSpec) -> None:
    ns = sql_literal(spec.namespace + "-")
    con.execute(
        "create or replace temp table new_consents as select *, "
        "cast(null as bigint) as line_number, cast(null as varchar) as stated_source "
        f"from {RAW_SCHEMA}.consents limit 0"
    )
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
