"""The dashboard's community section shows the community marts' numbers, exactly,
and is left out of a warehouse built without them."""

from __future__ import annotations

import math
from decimal import Decimal

import duckdb

from activations.dashboards import render_dashboard
from activations.dashboards.community import COMMUNITY_MARTS
from activations.dashboards.queries import MARTS_READ


def close(shown: str, expected: object) -> bool:
    """As in test_dashboard_render: exact for decimals and integers."""
    if expected is None:
        return shown == ""
    if isinstance(expected, Decimal | int):
        return Decimal(shown) == Decimal(expected)
    return math.isclose(float(shown), float(expected), rel_tol=1e-12, abs_tol=1e-12)


def test_the_dashboard_asset_follows_the_community_marts() -> None:
    assert set(COMMUNITY_MARTS) <= set(MARTS_READ)


def test_headline_equals_the_marts(built_warehouse, page) -> None:
    q = built_warehouse.query
    members, active, ambassadors, points = q(
        "select count(*), count(*) filter (where activity_level in ('active', 'very_active')), "
        "count(*) filter (where is_ambassador), sum(points_balance) from core.community_members"
    )[0]
    posts, answers = q("select sum(posts), sum(answers) from metrics.community_activity")[0]
    shown = page.tables["community-headline"]
    cells = {**shown["members"], **shown["content"]}
    expected = {
        "members": members,
        "active_members": active,
        "ambassadors": ambassadors,
        "posts": posts,
        "answers": answers,
        "points_outstanding": points,
    }
    for field, value in expected.items():
        assert close(cells[field], value), field
    assert ambassadors >= 1 and posts > 0


def test_comparison_table_equals_the_mart(built_warehouse, page) -> None:
    rows = built_warehouse.query(
        "select metric, member_value, non_member_value, ratio, unmatched_non_member_value, "
        "verdict from metrics.community_member_comparison"
    )
    table = page.tables["community-comparison"]
    assert set(table) == {r[0] for r in rows} == {"open_rate", "basket_value", "purchase_frequency"}
    for metric, member, non_member, ratio, unmatched, verdict in rows:
        cells = table[metric]
        for field, value in (
            ("member_value", member),
            ("non_member_value", non_member),
            ("ratio", ratio),
            ("unmatched_non_member_value", unmatched),
        ):
            assert close(cells[field], value), (metric, field)
        assert cells["verdict"] == verdict


def test_weekly_table_equals_the_mart(built_warehouse, page) -> None:
    fields = ["new_members", "active_members", "posts", "reviews", "answers", "reactions",
              "product_test_applications", "ambassadors"]  # fmt: skip
    rows = built_warehouse.query(
        f"select week_start, {', '.join(fields)} from metrics.community_activity"
    )
    table = page.tables["community-weeks"]
    assert len(table) == len(rows) > 0
    for week, *values in rows:
        cells = table[week.isoformat()]
        for field, value in zip(fields, values, strict=True):
            assert close(cells[field], value), (week, field)


def test_section_is_left_out_without_the_community_marts(built_warehouse, tmp_path) -> None:
    path = tmp_path / "old.duckdb"
    path.write_bytes(built_warehouse.path.read_bytes())
    con = duckdb.connect(str(path))
    try:
        for mart in COMMUNITY_MARTS:
            con.execute(f"drop table metrics.{mart}")
    finally:
        con.close()
    html = render_dashboard(path, tmp_path / "dashboard.html").read_text(encoding="utf-8")
    assert 'id="community"' not in html and 'id="revenue"' in html


def test_money_is_shown_in_the_shop_currency(page) -> None:
    assert Decimal(page.tables["community-comparison"]["basket_value"]["member_value"]) > 0
