"""The generated email history agrees with the contact policy, on the built test warehouse
(800 customers, 60 days, seed 7, built by dbt as of its end; tests/conftest.py).

- control groups: the generator's Python bucket is the dbt macro's, nobody in a program's
  control group is ever sent that program's email, and held-out triggers are visible to
  the lift metric;
- emails have a real effect: on a larger shop (5,000 customers), program_lift shows a
  positive, moderate lift for cart rescue;
- hand-over at the end: the time-triggered audiences have sendable people as of the end.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import numpy as np
import pytest

from activations.generator import generate
from activations.generator.holdout import (
    BUCKETS,
    NOT_HELD_OUT,
    buckets,
    control_bucket,
    control_shares,
    customer_id,
)
from activations.warehouse.dbt import run_dbt

POLICY_AUDIENCES = sorted(control_shares())


def test_fast_buckets_equal_the_reference() -> None:
    numbers = np.array([1, 7, 800, 12_345, 49_999_999])
    for audience in ("cart_abandoners", "welcome_series"):
        expected = [control_bucket(customer_id(int(n)), audience) for n in numbers]
        assert buckets(numbers, audience).tolist() == expected


def test_python_bucket_matches_the_dbt_macro(built_warehouse) -> None:
    """Every audience row's is_control (the macro) equals the Python bucket below the share."""
    shares = control_shares()
    checked = 0
    for audience in POLICY_AUDIENCES:
        rows = built_warehouse.query(f"select person_id, is_control from audiences.{audience}")
        for person_id, is_control in rows:
            expected = control_bucket(person_id, audience) < shares[audience] * BUCKETS
            assert expected == is_control, (audience, person_id)
        checked += len(rows)
    assert checked > 500
    # and the raw hash, computed in SQL the way the macro does
    sample = built_warehouse.query(
        "select customer_id, md5(customer_id || ':' || 'cart_abandoners') from raw.customers "
        "order by customer_id limit 50"
    )
    for person_id, digest in sample:
        assert control_bucket(person_id, "cart_abandoners") == int(digest[:4], 16)


def test_no_control_person_is_sent_their_programs_email(built_warehouse) -> None:
    """Checked against the macro's is_control in int_program_members_reconstructed."""
    rows = built_warehouse.query(
        """
        select members.program,
               count(*) filter (where events.event_type = 'sent' and members.is_control),
               count(*) filter (where events.event_type = 'held_out' and not members.is_control),
               count(*) filter (where events.event_type = 'held_out'),
               count(*) filter (where events.event_type = 'sent')
        from raw.email_events as events
        inner join raw.campaigns as campaigns using (campaign_id)
        inner join intermediate.int_program_members_reconstructed as members
            on members.person_id = events.customer_id and members.program = campaigns.program
        where events.event_type in ('sent', 'held_out')
        group by 1 order by 1"""
    )
    by_program = {program: counts for program, *counts in rows}
    for program, (sent_to_control, held_treated, held, sent) in by_program.items():
        if program in NOT_HELD_OUT:
            assert held == 0, program
            continue
        assert sent_to_control == 0, f"{program}: control-group people were sent its email"
        assert held_treated == 0, f"{program}: people outside the control group were held out"
        assert sent > 0, program
    held_programs = {p for p, counts in by_program.items() if counts[2] > 0}
    assert {"cart_abandoners", "welcome_series", "browse_abandoners"} <= held_programs
    # the lift metric sees the control groups
    lift = dict(built_warehouse.query("select program, control_people from metrics.program_lift"))
    assert lift["cart_abandoners"] > 0 and lift["welcome_series"] > 0


def test_control_people_get_no_email_caused_visits(built_warehouse) -> None:
    """Held-out people never click, so no visit carries their program's email campaign."""
    leaked = built_warehouse.query(
        """
        with held as (
            select distinct events.customer_id, campaigns.program
            from raw.email_events as events
            inner join raw.campaigns as campaigns using (campaign_id)
            where events.event_type = 'held_out'
        )
        select count(*)
        from raw.email_events as events
        inner join raw.campaigns as campaigns using (campaign_id)
        inner join held
            on held.customer_id = events.customer_id and held.program = campaigns.program
        where events.event_type in ('delivered', 'opened', 'clicked')"""
    )[0][0]
    assert leaked == 0


@pytest.fixture(scope="module")
def larger_shop_lift(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """program_lift on 5,000 customers x 60 days (about 10 s: only program_lift's lineage)."""
    root = tmp_path_factory.mktemp("larger_shop")
    path = root / "shop.duckdb"
    end = datetime(2026, 6, 30, 12)
    generate(path, customers=5_000, days=60, seed=2, end=end)
    run_dbt(
        "build",
        select=["+program_lift"],
        exclude=["test_type:data", "test_type:unit"],
        vars={"as_of": end.strftime("%Y-%m-%d %H:%M:%S")},
        warehouse=path,
        target_path=root / "target",
        quiet=True,
    )
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            """
            select program, control_people, conversion_difference, conversion_difference_low,
                   incremental_revenue
            from metrics.program_lift"""
        ).fetchall()
    finally:
        con.close()
    return {program: tuple(rest) for program, *rest in rows}


def test_larger_shop_shows_positive_lift(larger_shop_lift: dict[str, tuple]) -> None:
    """Cart rescue lifts conversion (95% interval above zero) and revenue; the welcome
    series lifts conversion. Same seed, same data: the figures are stable."""
    control, difference, low, incremental = larger_shop_lift["cart_abandoners"]
    assert control > 40
    assert low > 0 and incremental > 0
    assert 0 < difference < 0.5  # a real but moderate effect
    assert larger_shop_lift["welcome_series"][1] > 0


@pytest.mark.parametrize("audience", ["welcome_series", "coupon_expiring", "birthday_upcoming"])
def test_time_triggered_audiences_have_sendable_people_at_the_end(
    built_warehouse, audience: str
) -> None:
    sendable, already_sent = built_warehouse.query(
        f"""
        select count(*) filter (where is_sendable),
               count(*) filter (where suppression_reason = 'already_sent')
        from audiences.{audience}"""
    )[0]
    assert sendable > 0, f"{audience}: nobody sendable as of the end"
    if audience != "welcome_series":  # the welcome steps sent before the last 24 h stay sent
        assert already_sent == 0, f"{audience}: the lookahead's emails were already sent"
