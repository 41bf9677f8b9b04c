"""The one transaction that writes an import: it replaces the orders and items
whose ids the file holds, merges customers and products, appends the consent
rows it states (``raw.consents``, source ``import``), and records the rejects
and the ledger row (all or nothing)."""

from __future__ import annotations

from datetime import datetime

import duckdb

from activations.imports.lines import FormatSpec
from activations.warehouse.raw_schema import RAW_SCHEMA


def write(
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
                phone = coalesce(n.phone, c.phone),
                first_name = coalesce(n.first_name, c.first_name),
                last_name = coalesce(n.last_name, c.last_name),
                birth_date = coalesce(n.birth_date, c.birth_date),
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
        _write_consents(con, import_id, source_file)
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


def _write_consents(con: duckdb.DuckDBPyConnection, import_id: str, source_file: str) -> None:
    """Append the consent rows the file states; one already in the log (same id:
    same person, status and moments) is not added twice. A file corrected in place
    (another status at the same moment) replaces the row its earlier import wrote."""
    raw = RAW_SCHEMA
    con.execute(
        f"""
        delete from {raw}.consents as c
        where c.source = 'import'
          and c.consent_id not in (select consent_id from new_consents)
          and exists (
              select 1 from new_consents as n
              where n.customer_id = c.customer_id and n.changed_at = c.changed_at
          )
        """
    )
    con.execute(
        f"""
        insert into {raw}.consents (consent_id, customer_id, email, channel, status, source,
                                    double_opt_in_confirmed_at, changed_at)
        select consent_id, customer_id, email, channel, status, source,
               double_opt_in_confirmed_at, changed_at
        from new_consents
        where consent_id not in (select consent_id from {raw}.consents
                                 where consent_id is not null)
        """
    )
    # where each imported consent row came from: the file, its line, the source it named
    con.execute(
        f"delete from {raw}.import_consents where consent_id in "
        "(select consent_id from new_consents)"
    )
    con.execute(
        f"""
        insert into {raw}.import_consents
        select consent_id, ?, ?, line_number, stated_source from new_consents
        """,
        [import_id, source_file],
    )
