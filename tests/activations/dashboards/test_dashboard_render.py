"""The dashboard shows the marts' numbers, exactly, and needs no network."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest

from activations.dashboards import charts


def close(shown: str, expected: object) -> bool:
    if expected is None:
        return shown == ""
    if isinstance(expected, Decimal | int):
        return Decimal(shown) == Decimal(expected)
    return math.isclose(float(shown), float(expected), rel_tol=1e-12, abs_tol=1e-12)


def test_page_is_self_contained(rendered_dashboard, page):
    html = rendered_dashboard.read_text(encoding="utf-8")
    assert page.external == [], f"external resources: {page.external}"
    assert "<script" not in html
    assert page.tags.get("svg", 0) >= 6, "every chart is an inline svg"


def test_period_and_freshness_are_stated(built_warehouse, page):
    (start, end, last_order) = built_warehouse.query(
        "select min(cast(placed_at as date)), max(cast(placed_at as date)), max(placed_at) "
        "from core.orders"
    )[0]
    assert page.ids["period"]["data-start"] == start.isoformat()
    assert page.ids["period"]["data-end"] == end.isoformat()
    fresh = page.ids["freshness"]["data-value"]
    assert fresh >= last_order.isoformat()
    assert fresh <= built_warehouse.as_of.isoformat()
    # the as_of the metric marts were built for, from the build record
    assert page.ids["as-of"]["data-value"] == built_warehouse.as_of.isoformat()


def test_headline_numbers_equal_the_marts(built_warehouse, page):
    q = built_warehouse.query
    (shop_revenue, orders) = q("select sum(total), count(*) from core.orders where is_completed")[0]
    (email_revenue,) = q(
        "select sum(attributed_revenue) from metrics.program_revenue "
        "where attribution_model = 'last_touch'"
    )[0]
    (sent, delivered, opened, clicked) = q(
        "select sum(sent), sum(delivered), sum(opened), sum(clicked) "
        "from metrics.campaign_performance"
    )[0]
    (subscribers,) = q(
        "select subscriber_base from metrics.newsletter_growth order by day desc limit 1"
    )[0]
    (incremental,) = q(
        "select sum(incremental_revenue) from metrics.program_lift "
        "where control_people > 1 and treated_people > 1"
    )[0]
    (issued, redeemed) = q(
        "select sum(coupons_issued), sum(coupons_redeemed) from metrics.coupon_performance"
    )[0]
    expected = {
        "shop_revenue": shop_revenue,
        "completed_orders": orders,
        "email_revenue": email_revenue,
        "emails_sent": sent,
        "open_rate": opened / delivered,
        "click_rate": clicked / delivered,
        "subscribers": subscribers,
        "incremental_revenue": incremental,
        "coupon_redemption_rate": redeemed / issued,
    }
    for key, value in expected.items():
        if key == "completed_orders":
            continue  # shown in the note of shop revenue
        shown = page.ids[f"kpi-{key}"]["data-value"]
        assert close(shown, value), f"{key}: page {shown} != mart {value}"
    assert float(email_revenue) > 0 and sent > 0


def test_program_revenue_table_equals_the_mart(built_warehouse, page):
    table = page.tables["program-revenue"]
    rows = built_warehouse.query(
        "select program, attribution_model, sum(attributed_revenue) "
        "from metrics.program_revenue group by all"
    )
    assert rows
    field = {
        "last_touch": "last_touch",
        "first_touch": "first_touch",
        "linear": "linear",
        "position_based": "position_based",
    }
    for program, model, revenue in rows:
        assert close(table[program][field[model]], revenue), (program, model)


def test_ab_lift_campaign_and_coupon_tables_equal_the_marts(built_warehouse, page):
    q = built_warehouse.query
    for campaign_id, a_rate, b_rate, p_value, verdict in q(
        "select campaign_id, a_rate, b_rate, p_value, verdict from metrics.campaign_ab_tests"
    ):
        row = page.tables["ab-table"][campaign_id]
        assert close(row["a_rate"], a_rate) and close(row["b_rate"], b_rate)
        assert close(row["p_value"], p_value) and row["verdict"] == verdict
    for program, treated, control, diff, incremental in q(
        "select program, treated_people, control_people, conversion_difference, "
        "incremental_revenue from metrics.program_lift"
    ):
        row = page.tables["lift-table"][program]
        assert close(row["treated_people"], treated) and close(row["control_people"], control)
        assert close(row["conversion_difference"], diff)
        assert close(row["incremental_revenue"], incremental)
    campaigns = page.tables["campaign-table"]
    for key, sent, opened, click_rate in q(
        "select campaign_id || '-' || variant, sent, opened, click_rate "
        "from metrics.campaign_performance"
    ):
        assert close(campaigns[key]["sent"], sent) and close(campaigns[key]["opened"], opened)
        assert close(campaigns[key]["click_rate"], click_rate)
    for campaign_id, issued, redeemed, revenue in q(
        "select campaign_id, coupons_issued, coupons_redeemed, redeemed_order_revenue "
        "from metrics.coupon_performance"
    ):
        row = page.tables["coupon-table"][campaign_id]
        assert close(row["coupons_issued"], issued) and close(row["coupons_redeemed"], redeemed)
        assert close(row["redeemed_order_revenue"], revenue)


def test_funnel_and_chatbot_equal_the_marts(built_warehouse, page):
    (shown, submitted, confirmed, bought) = built_warehouse.query(
        "select sum(popups_shown), sum(signups_submitted), sum(signups_confirmed), "
        "sum(purchased_after_signup) from metrics.newsletter_funnel where source = 'popup'"
    )[0]
    steps = page.tables["funnel-steps"]
    assert close(steps["popups_shown"]["value"], shown)
    assert close(steps["signups_submitted"]["value"], submitted)
    assert close(steps["signups_confirmed"]["value"], confirmed)
    assert close(steps["purchased_after_signup"]["value"], bought)
    assert shown > 0
    by_source = page.tables["signups-by-source"]
    for source, confirmed_since in built_warehouse.query(
        "select source, sum(signups_confirmed) from metrics.newsletter_funnel "
        "where day >= (select min(cast(placed_at as date)) from core.orders) group by source"
    ):
        assert close(by_source[source]["signups_confirmed"], confirmed_since)
    (started, finished) = built_warehouse.query(
        "select sum(conversations_started), sum(conversations_finished) "
        "from metrics.chatbot_metrics"
    )[0]
    assert close(page.tables["chatbot-table"]["started"]["value"], started)
    assert close(page.tables["chatbot-table"]["finished"]["value"], finished)


@pytest.mark.parametrize(
    ("low", "high"), [(0, 1), (0, 7), (0, 1234.5), (-3.2, 8.9), (0.0001, 0.0009), (5, 5)]
)
def test_nice_ticks_cover_the_range(low, high):
    ticks = charts.nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= max(high, low)
    assert 2 <= len(ticks) <= 12
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1


def test_charts_escape_text_and_handle_empty_data():
    svg = charts.stacked_columns(["<b>"], [("a&b", [1.0])], label="x<y", fmt=str)
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "a&amp;b" in svg
    assert "No data yet" in charts.stacked_columns([], [], label="empty", fmt=str)
    assert "No A/B test yet" in charts.paired_bars([], label="ab", fmt=str)
    assert "No treated" in charts.intervals([("p", None, None, None)], label="l", fmt=str)


def test_a_warehouse_with_no_activity_renders_empty_states():
    """Marts built on empty raw tables: every section says so instead of failing."""
    from activations.dashboards.queries import DashboardData
    from activations.dashboards.render import render_html

    headline_keys = [
        "shop_revenue", "completed_orders", "email_revenue", "email_revenue_share",
        "emails_sent", "open_rate", "click_rate", "subscribers", "subscriber_purchaser_share",
        "incremental_revenue", "lift_programs", "significant_programs",
        "coupon_redemption_rate", "chatbot_completion_rate",
    ]  # fmt: skip
    data = DashboardData(
        period_start=None,
        period_end=None,
        data_fresh_at=None,
        currency="",
        headline=dict.fromkeys(headline_keys),
        revenue_by_month=[],
        program_totals=[],
        funnel_steps=[{"step": "popups_shown", "label": "Pop-up shown", "value": 0}],
        signups_by_source=[],
        subscriber_growth=[],
        unsubscribes_by_tenure=[],
        ab_tests=[],
        lift=[],
        campaigns=[],
        coupons=[],
        chatbot={"started": 0, "finished": 0, "purchases": 0, "window_days": 7},
        chatbot_topics=[],
    )
    html = render_html(data)
    for message in ("No data yet", "No newsletter activity yet", "No A/B test yet",
                    "No treated and control groups yet", "No sync has run yet"):  # fmt: skip
        assert message in html
    assert 'id="kpi-shop_revenue" data-value=""' in html
