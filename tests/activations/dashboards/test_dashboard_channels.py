"""The dashboard's channel split: every flow that reached anyone, by email and
by SMS, with the numbers of flow_channel_performance, exactly."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from activations.dashboards.queries import MARTS_READ, load
from activations.dashboards.render import render_html
from tests.activations.dashboards.conftest import parse_page


def test_channel_table_equals_the_mart(built_warehouse, page):
    assert "flow_channel_performance" in MARTS_READ  # the Dagster asset follows it
    rows = built_warehouse.query(
        "select flow, channel, people_reached, revenue, share_only_sms "
        "from metrics.flow_channel_performance as f where exists (select 1 from "
        "metrics.flow_channel_performance as r where r.flow = f.flow and r.people_reached > 0)"
    )
    assert rows, "the built shop has flows that reached people"
    table = page.tables["channel-table"]
    assert set(table) == {f"{flow}-{channel}" for flow, channel, *_ in rows}
    for flow, channel, reached, revenue, share in rows:
        cells = table[f"{flow}-{channel}"]
        assert int(cells["people_reached"]) == reached
        assert Decimal(cells["revenue"]) == revenue
        assert (cells["share_only_sms"] or None) == (None if share is None else str(share))
    # both channels of every flow are shown, SMS at zero when no SMS sync ran
    assert {k.rsplit("-", 1)[1] for k in table} == {"email", "sms"}
    assert page.ids["channel-split"]["data-available"] == "true"


def test_sms_rescues_are_shown(built_warehouse):
    con = built_warehouse.connect(read_only=True)
    try:
        data = load(con)
    finally:
        con.close()
    data = dataclasses.replace(
        data,
        channel_split=[
            {"flow": "cart_abandoners", "channel": channel, "people_reached": reached,
             "messages_sent": reached, "people_converted": conv, "orders": conv,
             "revenue": Decimal(revenue), "conversion_rate": Decimal(conv) / reached,
             "flow_orders": 5, "flow_orders_only_sms": 2, "share_only_sms": Decimal("0.4")}
            for channel, reached, conv, revenue in (
                ("email", 10, 3, "90.00"), ("sms", 4, 2, "60.00")
            )
        ],  # fmt: skip
    )
    html = render_html(data)
    table = parse_page(html).tables["channel-table"]
    assert table["cart_abandoners-sms"]["revenue"] == "60.00"
    assert table["cart_abandoners-sms"]["share_only_sms"] == "0.4"
    assert "2 (40.0%)" in html
    assert "Revenue by flow and channel" in html  # the chart, inline svg


def test_no_channel_section_without_the_mart(built_warehouse):
    con = built_warehouse.connect(read_only=True)
    try:
        data = dataclasses.replace(load(con), channel_split=[])
    finally:
        con.close()
    page = parse_page(render_html(data))
    assert page.ids["channel-split"]["data-available"] == "false"
    assert "channel-table" not in page.tables
