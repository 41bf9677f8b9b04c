"""Coupon codes on the built shop: the demo's cart_abandoners_klaviyo
declaration gives each 24 h-stage cart abandoner their own code, the codes
survive a rebuild of the audience, and dbt reads them back from the ledger:
redemption through raw.orders.coupon_code, coupon_performance and the
coupon_expiring candidates (a private copy of the built warehouse)."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from activations.sync.engine import run
from activations.sync.specs import get_sync
from tests.activations.coupons.conftest import FieldsDestination

ENV = {"KLAVIYO_API_KEY": "pk_test_coupons", "KLAVIYO_BASE_URL": "http://127.0.0.1:9"}


def _run(path, spec, dest):
    con = duckdb.connect(str(path))
    try:
        return run(spec, con, provider=dest, env=ENV)
    finally:
        con.close()


def test_codes_reach_the_destination_survive_a_rebuild_and_feed_the_marts(warehouse_copy):
    spec = get_sync("cart_abandoners_klaviyo")
    assert spec.coupons is not None and spec.coupons.campaign == "cart-24h"
    dest = FieldsDestination()
    first = _run(warehouse_copy.path, spec, dest)
    assert first.status == "succeeded" and first.coupons_assigned > 0
    ledger = dict(warehouse_copy.query(
        "select person_id, code from activations.coupon_assignments where campaign = 'cart-24h'"
    ))  # fmt: skip
    (due,) = warehouse_copy.query(
        "select count(*) from audiences.cart_abandoners "
        "where is_sendable and stage = 'reminder_24h'"
    )[0]
    assert len(ledger) == due == first.coupons_assigned  # the 24 h stage only
    sent = {k: f["coupon_code"] for k, f in dest.fields.items()}
    assert {k: c for k, c in sent.items() if c} == ledger
    assert all(c.startswith("CART-") and len(c) == 13 for c in ledger.values())

    warehouse_copy.dbt("run", select=["cart_abandoners"])  # the audience rebuilt
    dest.received.clear()
    again = _run(warehouse_copy.path, spec, dest)
    assert (again.sent, again.coupons_assigned) == (0, 0)

    # the test shop ends at as_of, before today: move the codes into its world (given
    # two days before as_of); one is redeemed (typed in lower case), one expires soon
    person, code = sorted(ledger.items())[0]
    other, other_code = sorted(ledger.items())[1]
    as_of = warehouse_copy.as_of
    con = duckdb.connect(str(warehouse_copy.path))
    try:
        con.execute(
            "update activations.coupon_assignments set assigned_at = ?, "
            "expires_at = case when code = ? then ? else ? end",
            [as_of - timedelta(days=2), other_code, as_of + timedelta(days=2),
             as_of + timedelta(days=5)],
        )  # fmt: skip
        con.execute(
            "insert into raw.orders (order_id, customer_id, placed_at, status, currency, "
            "subtotal, discount, shipping, total, coupon_code, updated_at) "
            "values ('ord_coupon_1', ?, ?, 'paid', 'EUR', 50, 5, 0, 45, ?, ?)",
            [person, as_of - timedelta(days=1), f" {code.lower()}", as_of - timedelta(days=1)],
        )
    finally:
        con.close()
    warehouse_copy.dbt(
        "run", select=["stg_activations__coupon_assignments", "orders", "coupon_performance"]
    )
    assert warehouse_copy.query(
        "select customer_id, order_id, program from intermediate.int_coupons_unioned "
        "where coupon_code = ?",
        [code],
    ) == [(person, "ord_coupon_1", "cart_abandoners")]
    assert warehouse_copy.query(
        "select program, coupons_issued, coupons_redeemed, cast(redeemed_order_revenue as double) "
        "from metrics.coupon_performance where campaign_id = 'cart-24h'"
    ) == [("cart_abandoners", len(ledger), 1, 45.0)]
    assert warehouse_copy.query(
        "select coupon_code from intermediate.int_coupon_expiring_candidates where person_id = ?",
        [other],
    ) == [(other_code,)]
