"""UCI Online Retail: every line is loaded or rejected with its reason, and the
imported history gives plausible RFM segments and dormant customers. The file
has no emails: the audiences keep every customer for analysts, none sendable
(missing_email), and a sync of them sends nothing."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pyarrow.parquet as pq
from import_datasets import UCI_AS_OF, UCI_PARQUET, ImportedWarehouse

from activations.imports import import_orders
from activations.sync.engine import run
from activations.sync.specs import SyncSpec

# sum(Quantity * UnitPrice) over the whole file, from the dataset README
FILE_TOTAL = Decimal("9747747.93")


def test_every_line_is_loaded_or_rejected_with_a_reason(uci_warehouse: ImportedWarehouse) -> None:
    result = uci_warehouse.result
    assert result.rows_read == 541_909
    assert result.rows_loaded + result.rows_rejected == 541_909
    assert result.rejected_by_reason == {
        "missing_customer": 134_694,
        "cancellation": 9_288,  # every 'C' invoice line (README: 9,288)
        "duplicate_line": 5_187,
        "non_product_line": 295,
        "no_items_in_order": 55,
        "zero_price": 44,
        "bad_debt_adjustment": 3,  # the three 'A' invoices
    }
    (rejects, distinct_lines, lowest, highest) = uci_warehouse.query(
        "select count(*), count(distinct line_number), min(line_number), max(line_number) "
        "from raw.import_rejects"
    )[0]
    assert rejects == distinct_lines == result.rows_rejected
    assert 1 <= lowest and highest <= 541_909


def test_nothing_is_lost_in_money(uci_warehouse: ImportedWarehouse) -> None:
    """Loaded order totals plus the rejected lines' amounts give the file's total."""
    loaded, rejected = uci_warehouse.query(
        """
        select
            (select sum(total) from raw.orders where order_id like 'uci-%'),
            (select sum(round(cast(json_extract(raw_line, '$.Quantity') as bigint)
                            * cast(json_extract(raw_line, '$.UnitPrice') as double), 2))
             from raw.import_rejects)
        """
    )[0]
    assert abs(loaded + Decimal(str(rejected)) - FILE_TOTAL) < Decimal("0.01")


def test_line_number_is_the_parquet_row(uci_warehouse: ImportedWarehouse) -> None:
    """Line 142 (row 141 counted from 0) is the first cancellation, C536379."""
    row = (
        pq.read_table(UCI_PARQUET, columns=["InvoiceNo", "StockCode"]).slice(141, 1).to_pylist()[0]
    )
    assert (row["InvoiceNo"], row["StockCode"]) == ("C536379", "D")
    rejects = uci_warehouse.query(
        "select line_number, reason, json_extract_string(raw_line, '$.InvoiceNo') "
        "from raw.import_rejects where reason = 'cancellation' order by line_number limit 1"
    )
    assert rejects == [(142, "cancellation", "C536379")]


def test_ids_are_namespaced_and_orders_well_formed(uci_warehouse: ImportedWarehouse) -> None:
    assert uci_warehouse.query(
        """
        select
            count(*) filter (where order_id not like 'uci-%' or customer_id not like 'uci-%'),
            count(*) filter (where total != subtotal + shipping or subtotal <= 0),
            count(*) filter (where status != 'shipped' or currency != 'GBP'),
            count(distinct order_id) = count(*)
        from raw.orders
        """
    ) == [(0, 0, 0, True)]
    # invoice 536365 (the first one) with its 7 lines; customer 17850 from the UK
    assert uci_warehouse.query(
        "select customer_id, subtotal, placed_at::varchar from raw.orders "
        "where order_id = 'uci-536365'"
    ) == [("uci-17850", Decimal("139.12"), "2010-12-01 08:26:00")]
    assert uci_warehouse.query(
        "select count(*), min(product_id) from raw.order_items where order_id = 'uci-536365'"
    ) == [(7, "uci-21730")]
    assert uci_warehouse.query(
        "select country, email from raw.customers where customer_id = 'uci-17850'"
    ) == [("GB", None)]
    # postage is shipping, not an item
    assert uci_warehouse.query(
        "select count(*) from raw.order_items where product_id in ('uci-POST', 'uci-DOT')"
    ) == [(0,)]


def test_summer_times_are_converted_to_utc(uci_warehouse: ImportedWarehouse) -> None:
    # invoice 555156 was made 2011-06-01 07:37 London time (BST): 06:37 UTC
    rows = pq.read_table(UCI_PARQUET, filters=[("InvoiceNo", "=", "555156")]).to_pylist()
    assert str(rows[0]["InvoiceDate"]) == "2011-06-01 07:37:00"
    assert uci_warehouse.query(
        "select placed_at::varchar from raw.orders where order_id = 'uci-555156'"
    ) == [("2011-06-01 06:37:00",)]


def test_core_customers_from_the_import(uci_warehouse: ImportedWarehouse) -> None:
    (customers, with_orders, no_email, revenue) = uci_warehouse.query(
        "select count(*), count(*) filter (where order_count > 0), "
        "count(*) filter (where email is null), sum(total_revenue) from core.customers"
    )[0]
    assert customers == with_orders == no_email == uci_warehouse.result.customers
    assert revenue == uci_warehouse.query("select sum(total) from raw.orders")[0][0]


def test_rfm_segments_are_plausible(uci_warehouse: ImportedWarehouse) -> None:
    segments = {
        row[0]: row[1:]
        for row in uci_warehouse.query(
            """
            select segment, count(*), avg(monetary), avg(frequency), avg(recency_days)
            from intermediate.int_rfm_segments_candidates
            group by segment
            """
        )
    }
    assert sum(n for n, *_ in segments.values()) == uci_warehouse.result.customers
    assert {"Champions", "Hibernating", "Loyal", "At Risk"} <= set(segments)
    champions, hibernating = segments["Champions"], segments["Hibernating"]
    assert champions[1] > 5 * hibernating[1]  # they spend more
    assert champions[2] > hibernating[2]  # buy more often
    assert champions[3] < hibernating[3]  # and more recently


def test_rfm_segments_audience_keeps_everyone_flagged_missing_email(
    uci_warehouse: ImportedWarehouse,
) -> None:
    """Nobody in the file has an email: the audience still holds every customer,
    segment by segment as the candidates, each row not sendable (missing_email)."""
    (rows, people, with_email, sendable, missing, control) = uci_warehouse.query(
        """
        select count(*), count(distinct person_id), count(email),
            count(*) filter (where is_sendable),
            count(*) filter (where suppression_reason = 'missing_email'),
            count(*) filter (where is_control)
        from audiences.rfm_segments
        """
    )[0]
    assert rows == people == missing == uci_warehouse.result.customers
    assert with_email == sendable == 0
    assert 0 < control < rows  # control groups are still drawn, the reason stays missing_email
    by_segment = """
        select segment, count(*) from {} group by segment order by segment
    """
    audience = uci_warehouse.query(by_segment.format("audiences.rfm_segments"))
    assert audience == uci_warehouse.query(
        by_segment.format("intermediate.int_rfm_segments_candidates")
    )
    # plausible quintile segments: every named segment occurs, none swallows the
    # shop. (A third of the customers bought once: that tie scores f_score 1, the
    # bottom of its group, so Lost, Promising and New Customers exist too.)
    shares = {segment: n / rows for segment, n in audience}
    segment_map = uci_warehouse.query("select distinct segment from seeds.rfm_segment_map")
    assert set(shares) == {segment for (segment,) in segment_map}, shares
    assert len(shares) == 11, shares
    assert max(shares.values()) < 0.35, shares
    assert all(share > 0.005 for share in shares.values()), shares


def test_dormant_customers_are_dormant(uci_warehouse: ImportedWarehouse) -> None:
    """Each dormant candidate's last order is at least 30 days before as_of, as core says."""
    (candidates, wrong) = uci_warehouse.query(
        f"""
        select
            count(*),
            count(*) filter (
                where d.days_since_last_order < 30
                or d.last_order_at != c.last_order_at
                or date_diff('day', cast(c.last_order_at as date), date '{UCI_AS_OF}')
                    != d.days_since_last_order
            )
        from intermediate.int_dormant_customers_candidates as d
        join core.customers as c on d.person_id = c.customer_id
        """
    )[0]
    assert candidates > 1_000
    assert wrong == 0
    (rows, people, with_email, sendable, missing) = uci_warehouse.query(
        """
        select count(*), count(distinct person_id), count(email),
            count(*) filter (where is_sendable),
            count(*) filter (where suppression_reason = 'missing_email')
        from audiences.dormant_customers
        """
    )[0]
    assert rows == people == missing == candidates
    assert with_email == sendable == 0


def test_a_sync_of_the_imported_audience_sends_nothing(
    uci_warehouse: ImportedWarehouse,
) -> None:
    """The sync engine plans the audience of people without an email: every row
    skipped with its reason, nothing to send, no invalid address counted."""
    spec = SyncSpec(
        name="uci_rfm",
        audience="rfm_segments",
        provider="klaviyo",
        destination="uci-rfm",
        fields={"segment": "segment"},
    )
    con = duckdb.connect(str(uci_warehouse.path), read_only=True)
    try:
        report = run(spec, con, dry_run=True)
    finally:
        con.close()
    customers = uci_warehouse.result.customers
    assert report.status == "dry_run"
    assert (report.skipped, report.planned, report.invalid) == (customers, 0, 0)
    assert report.plan is not None
    assert report.plan.skipped_reasons == {"not sendable: missing_email": customers}


def test_reimport_adds_nothing_twice(uci_warehouse: ImportedWarehouse) -> None:
    before = _raw_counts(uci_warehouse)
    again = import_orders(UCI_PARQUET, "online-retail", warehouse=uci_warehouse.path)
    assert again.already_imported and again.import_id == uci_warehouse.result.import_id
    assert _raw_counts(uci_warehouse) == before
    forced = import_orders(UCI_PARQUET, "online-retail", warehouse=uci_warehouse.path, force=True)
    assert forced.rows_loaded == uci_warehouse.result.rows_loaded
    after = _raw_counts(uci_warehouse)
    assert after == {**before, "imports": before["imports"] + 1}


def _raw_counts(warehouse: ImportedWarehouse) -> dict[str, int]:
    tables = ("orders", "order_items", "customers", "products", "import_rejects", "imports")
    return {t: warehouse.query(f"select count(*) from raw.{t}")[0][0] for t in tables}
