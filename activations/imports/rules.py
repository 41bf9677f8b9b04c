"""Generic cleaning rules: what no format may load, whatever its own rules said.

Each rule sets ``reason`` on the lines of ``import_lines`` it matches that no
earlier rule (the format's, then these, in order) has rejected.
"""

from __future__ import annotations

import duckdb

from activations.imports.lines import EARLIEST, EARLIEST_BIRTH_DATE, LATEST_SQL, FormatSpec


def out_of_range(column: str, earliest: str = EARLIEST) -> str:
    """SQL: ``column`` is before ``earliest`` or after tomorrow (null is not)."""
    return f"({column} < timestamp '{earliest}' or {column} > {LATEST_SQL})"


# Generic rules, in order: the first that matches is the line's reason.
def _generic_rules(spec: FormatSpec) -> list[tuple[str, str]]:
    if spec.entity == "customers":
        return _customer_rules()
    zero = [] if spec.load_zero_value else [("zero_price", "kind = 'item' and line_amount = 0")]
    return [
        ("missing_order_id", "order_key is null or trim(order_key) = ''"),
        ("bad_date", "placed_at is null"),
        ("date_out_of_range", out_of_range("placed_at")),
        ("missing_customer", "customer_key is null or trim(customer_key) = ''"),
        ("missing_product", "kind = 'item' and (product_key is null or trim(product_key) = '')"),
        ("non_positive_quantity", "quantity is null or quantity <= 0"),
        ("missing_price", "line_amount is null"),
        ("negative_price", "line_amount < 0"),
        *zero,
    ]


def _customer_rules() -> list[tuple[str, str]]:
    """What no customer line may load: no id, no or an impossible creation date,
    impossible consent or birth dates, a consent status without its date."""
    dates = " or ".join(
        out_of_range(c) for c in ("created_at", "consent_changed_at", "double_opt_in_confirmed_at")
    )
    return [
        ("missing_customer", "customer_key is null or trim(customer_key) = ''"),
        ("bad_date", "created_at is null"),
        (
            "date_out_of_range",
            f"{dates} or {out_of_range('birth_date', EARLIEST_BIRTH_DATE)}",
        ),
        ("missing_consent_date", "consent_status is not null and consent_changed_at is null"),
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
    if spec.entity == "customers":
        _customer_set_rules(con)
    else:
        _order_set_rules(con)


def _customer_set_rules(con: duckdb.DuckDBPyConnection) -> None:
    # one customer, one line: lines that say different things of one customer are ambiguous
    con.execute(
        """
        update import_lines set reason = 'customer_listed_twice'
        where reason is null and customer_key in (
            select customer_key from import_lines where reason is null
            group by customer_key having count(*) > 1
        )
        """
    )


def _order_set_rules(con: duckdb.DuckDBPyConnection) -> None:
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
