"""The metric marts on the built warehouse: non-empty, sane, and equal to the
same numbers recomputed here independently from the raw tables."""

from __future__ import annotations

import json
import math
import os
import subprocess
from datetime import timedelta

import pandas as pd
import pytest
from scipy import stats

from activations.paths import DBT_PROJECT_DIR

MARTS = [
    "attributed_orders",
    "program_revenue",
    "campaign_performance",
    "campaign_ab_tests",
    "coupon_performance",
    "program_lift",
    "newsletter_funnel",
    "newsletter_growth",
    "newsletter_unsubscribes_by_tenure",
    "chatbot_metrics",
]


@pytest.fixture(scope="module")
def wh(built_warehouse):
    return built_warehouse


def frame(wh, sql: str) -> pd.DataFrame:
    con = wh.connect(read_only=True)
    try:
        return con.sql(sql).df()
    finally:
        con.close()


@pytest.mark.parametrize("mart", MARTS)
def test_mart_is_built_and_not_empty(wh, mart):
    (count,) = wh.query(f"select count(*) from metrics.{mart}")[0]
    assert count > 0, f"metrics.{mart} is empty on the demo data"


def test_sync_health_exists_and_is_empty_before_any_sync(wh):
    columns = {
        r[0]
        for r in wh.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'metrics' and table_name = 'sync_health'"
        )
    }
    assert {"day", "sync_name", "runs", "records_delivered", "records_rejected"} <= columns
    (has_state,) = wh.query(
        "select count(*) from information_schema.tables "
        "where table_schema = 'activations' and table_name = 'sync_runs'"
    )[0]
    if not has_state:
        assert wh.query("select count(*) from metrics.sync_health")[0][0] == 0


def test_every_models_credit_sums_exactly_to_the_order_revenue(wh):
    bad = wh.query(
        """
        select order_id
        from metrics.attributed_orders
        group by order_id
        having sum(first_touch_credit) <> max(order_revenue)
            or sum(last_touch_credit) <> max(order_revenue)
            or sum(linear_credit) <> max(order_revenue)
            or sum(position_based_credit) <> max(order_revenue)
        """
    )
    assert bad == []
    # and the revenue credited is the orders' real total, from raw
    mismatched = wh.query(
        """
        select a.order_id
        from (select distinct order_id, order_revenue from metrics.attributed_orders) a
        join raw.orders o on o.order_id = a.order_id
        where a.order_revenue <> o.total
        """
    )
    assert mismatched == []


def _touches_from_raw(wh, window_days: int = 7) -> pd.DataFrame:
    orders = frame(
        wh,
        "select order_id, customer_id, placed_at, total from raw.orders "
        "where status in ('paid', 'shipped') and customer_id is not null",
    )
    clicks = frame(
        wh,
        "select e.message_id, e.customer_id, e.occurred_at, c.program "
        "from raw.email_events e join raw.campaigns c using (campaign_id) "
        "where e.event_type = 'clicked' and e.customer_id is not null",
    )
    joined = orders.merge(clicks, on="customer_id")
    window = timedelta(days=window_days)
    joined = joined[
        (joined.occurred_at < joined.placed_at) & (joined.occurred_at >= joined.placed_at - window)
    ]
    return joined.groupby(["order_id", "message_id"], as_index=False).agg(
        touched_at=("occurred_at", "max"), program=("program", "max"), total=("total", "max")
    )


def test_first_and_last_touch_revenue_by_program_match_a_recount_from_raw(wh):
    touches = _touches_from_raw(wh).sort_values(["order_id", "touched_at", "message_id"])
    assert not touches.empty, "no click before any order: attribution has no signal"
    last = touches.groupby("order_id").tail(1).groupby("program")["total"].sum()
    first = touches.groupby("order_id").head(1).groupby("program")["total"].sum()
    marts = frame(
        wh,
        "select program, attribution_model, sum(attributed_revenue) as revenue "
        "from metrics.program_revenue group by all",
    )
    for model, expected in (("last_touch", last), ("first_touch", first)):
        got = marts[marts.attribution_model == model].set_index("program")["revenue"]
        got = got[got != 0].astype(float).sort_index()
        assert got.round(2).to_dict() == expected.astype(float).round(2).sort_index().to_dict()


def test_program_revenue_growth_is_consistent(wh):
    rows = frame(
        wh,
        "select * from metrics.program_revenue where attribution_model = 'linear' "
        "order by program, month_start",
    )
    for _, group in rows.groupby("program"):
        previous = group.attributed_revenue.shift(1)
        for (_, row), prev in zip(group.iterrows(), previous, strict=True):
            if pd.isna(prev) or float(prev) == 0:
                assert pd.isna(row.mom_growth)
            else:
                expected = (float(row.attributed_revenue) - float(prev)) / float(prev)
                assert float(row.mom_growth) == pytest.approx(expected, abs=1e-6)


def test_campaign_counts_match_raw_and_rates_are_fractions(wh):
    got = frame(wh, "select * from metrics.campaign_performance")
    raw = frame(
        wh,
        "select campaign_id, coalesce(variant, 'all') as variant, event_type, "
        "count(distinct message_id) as n from raw.email_events group by all",
    )
    pivot = raw.pivot_table(
        index=["campaign_id", "variant"], columns="event_type", values="n", fill_value=0
    )
    merged = got.set_index(["campaign_id", "variant"])
    for stage in ("sent", "delivered", "opened", "clicked"):
        assert merged[stage].to_dict() == pivot[stage].astype(int).to_dict()
    rate_columns = [c for c in got.columns if c.endswith("_rate")]
    values = got[rate_columns].astype(float)
    assert ((values >= 0) & (values <= 1) | values.isna()).all().all()
    assert 0.1 < float(got.opened.sum()) / float(got.delivered.sum()) < 0.7


def test_ab_p_values_equal_scipy_within_1e6(wh):
    tests = frame(wh, "select * from metrics.campaign_ab_tests")
    assert not tests.empty
    for _, t in tests.iterrows():
        xa, na, xb, nb = (
            int(t.a_successes),
            int(t.a_delivered),
            int(t.b_successes),
            int(t.b_delivered),
        )
        pooled = (xa + xb) / (na + nb)
        se = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
        z = (xb / nb - xa / na) / se
        assert float(t.z) == pytest.approx(z, abs=1e-6)
        assert abs(float(t.p_value) - 2 * stats.norm.sf(abs(z))) < 1e-6
        if min(na, nb) < 100:
            assert t.verdict == "not enough data"
        else:
            assert t.verdict == (
                "winner" if 2 * stats.norm.sf(abs(z)) < 0.05 else "no difference yet"
            )


def test_p_value_macro_equals_scipy_over_a_grid_of_z(wh, tmp_path):
    """The erfc approximation itself, far into the tails, rendered by dbt (a
    self-contained query on a scratch DuckDB file, not the shared warehouse)."""
    grid = [i / 8 for i in range(-64, 65)] + [0.0001, 1.959963985, 2.5758293, 6.5, 9.0]
    values = ", ".join(f"({z!r})" for z in grid)
    env = {**os.environ, **wh.env, "DUCKDB_PATH": str(tmp_path / "scratch.duckdb")}
    done = subprocess.run(
        [
            "dbt",
            "--quiet",
            "show",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(tmp_path / "target"),
            "--inline",
            "select z, {{ metrics_two_sided_p_value('z') }} as p "
            f"from (values {values}) as grid(z)",
            "--limit",
            str(len(grid)),
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(done.stdout[done.stdout.index("{") :])["show"]
    assert len(rows) == len(grid)
    for row in rows:
        expected = 2 * stats.norm.sf(abs(float(row["z"])))
        assert abs(float(row["p"]) - expected) < 1e-6, row


def test_lift_intervals_hold_their_estimate_and_control_is_a_small_share(wh):
    lift = frame(wh, "select * from metrics.program_lift")
    assert not lift.empty
    for _, r in lift.iterrows():
        if r.control_people and r.treated_people and r.control_people > 1:
            assert (
                r.conversion_difference_low
                <= r.conversion_difference
                <= r.conversion_difference_high
            )
            assert (
                r.revenue_per_person_difference_low
                <= r.revenue_per_person_difference
                <= r.revenue_per_person_difference_high
            )
            assert float(r.incremental_revenue) == pytest.approx(
                float(r.revenue_per_person_difference) * int(r.treated_people), abs=0.01
            )
    control_share = lift.control_people.sum() / (
        lift.control_people.sum() + lift.treated_people.sum()
    )
    assert 0.02 < control_share < 0.2


def test_subscriber_base_matches_the_consent_log(wh):
    consents = frame(
        wh,
        "select lower(trim(email)) as email, status, double_opt_in_confirmed_at, changed_at "
        "from raw.consents where channel = 'email' and email is not null",
    )
    as_of = pd.Timestamp(wh.as_of)
    confirmed = (
        consents.dropna(subset=["double_opt_in_confirmed_at"])
        .groupby("email")["double_opt_in_confirmed_at"]
        .min()
    )
    confirmed = confirmed[confirmed <= as_of]
    ends = consents[consents.status.isin(["unsubscribed", "bounced", "spam_complaint"])]
    ends = ends.merge(confirmed.rename("confirmed_at"), left_on="email", right_index=True)
    ended = set(ends[(ends.changed_at >= ends.confirmed_at) & (ends.changed_at <= as_of)].email)
    expected_base = len(set(confirmed.index) - ended)
    (base,) = wh.query(
        "select subscriber_base from metrics.newsletter_growth order by day desc limit 1"
    )[0]
    assert base == expected_base
    (total_confirmed,) = wh.query("select sum(signups_confirmed) from metrics.newsletter_funnel")[0]
    assert total_confirmed == len(confirmed)


def test_funnel_and_chatbot_totals_match_raw_events(wh):
    as_of = wh.as_of
    raw = dict(
        wh.query(
            "select event, count(*) from raw.events where timestamp <= ? group by event", [as_of]
        )
    )
    (shown,) = wh.query("select sum(popups_shown) from metrics.newsletter_funnel")[0]
    assert shown == raw.get("Newsletter Popup Shown", 0) > 0
    (started,) = wh.query(
        "select count(distinct json_extract_string(properties, '$.conversation_id')) "
        "from raw.events where event = 'Chatbot Started' and timestamp <= ?",
        [as_of],
    )[0]
    (mart_started,) = wh.query("select sum(conversations_started) from metrics.chatbot_metrics")[0]
    assert mart_started == started > 0


def test_coupon_totals_match_raw(wh):
    (issued, redeemed) = wh.query(
        "select count(*), count(redeemed_at) from raw.coupons where issued_at <= ?", [wh.as_of]
    )[0]
    (m_issued, m_redeemed) = wh.query(
        "select sum(coupons_issued), sum(coupons_redeemed) from metrics.coupon_performance"
    )[0]
    assert (m_issued, m_redeemed) == (issued, redeemed)
    assert issued > 0
