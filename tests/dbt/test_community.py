"""The community marts on the generated shop: a plausible community, members'
points equal to the raw ledger, the ambassadors audience equal to the members
flagged in community_members, weekly totals equal to raw, and the members-versus-
non-members comparison recomputed independently in Python from its population."""

from __future__ import annotations

import math
from collections import defaultdict

import pytest

Z95 = 1.959963985


def test_a_plausible_community(built_warehouse) -> None:
    q = built_warehouse.query
    (customers,) = q("select count(*) from core.customers")[0]
    members, ambassadors, quiet_or_occasional, very_active = q(
        "select count(*), count(*) filter (where is_ambassador), "
        "count(*) filter (where activity_level in ('quiet', 'occasional')), "
        "count(*) filter (where activity_level = 'very_active') from core.community_members"
    )[0]
    assert 0.05 <= members / customers <= 0.3
    assert ambassadors >= 1 and ambassadors / members <= 0.15  # a few percent
    assert quiet_or_occasional >= 0.5 * members and very_active <= 0.2 * members


def test_points_balance_is_the_raw_ledger(built_warehouse) -> None:
    mismatches = built_warehouse.query(
        """
        select m.member_id, m.points_balance, coalesce(l.balance, 0)
        from core.community_members m
        left join (select member_id, sum(points) as balance from raw.point_movements
                   where occurred_at <= ? group by member_id) l using (member_id)
        where m.points_balance <> coalesce(l.balance, 0)""",
        [built_warehouse.as_of],
    )
    assert mismatches == []


def test_ambassadors_audience_is_the_flagged_members(built_warehouse) -> None:
    q = built_warehouse.query
    audience = set(q("select member_id from audiences.community_ambassadors"))
    flagged = set(
        q(
            "select member_id from core.community_members "
            "where is_ambassador and customer_id is not null"
        )
    )
    assert audience == flagged and audience


def test_weekly_activity_adds_up_to_raw(built_warehouse) -> None:
    q = built_warehouse.query
    params = [built_warehouse.as_of]
    posts, answers, last_ambassadors = q(
        "select sum(posts), sum(answers), "
        "(select ambassadors from metrics.community_activity order by week_start desc limit 1) "
        "from metrics.community_activity"
    )[0]
    (raw_posts,) = q(
        "select count(*) from raw.posts where status = 'published' and created_at <= ?",
        params,
    )[0]
    (raw_answers,) = q(
        "select count(*) from raw.answers where status = 'published' and created_at <= ?",
        params,
    )[0]
    (flagged,) = q("select count(*) from core.community_members where is_ambassador")[0]
    assert (posts, answers, last_ambassadors) == (raw_posts, raw_answers, flagged)


def _compare(people: list[tuple]) -> dict[str, dict[str, float | int | None]]:
    """The comparison mart in plain Python: exact strata, ATT weights, ratio of sums."""
    members: dict[tuple, int] = defaultdict(int)
    others: dict[tuple, int] = defaultdict(int)
    for _, is_member, tenure, spend, *_ in people:
        (members if is_member else others)[(tenure, spend)] += 1
    out: dict[str, dict[str, float | int | None]] = {}
    for metric, (y_at, x_at) in {
        "open_rate": (5, 4),
        "basket_value": (7, 6),
        "purchase_frequency": (6, None),
    }.items():
        groups = {}
        for flag in (True, False):
            rows = []
            for person in people:
                key = (person[2], person[3])
                if person[1] != flag or not (members[key] and others[key]):
                    continue
                weight = 1.0 if flag else members[key] / others[key]
                x = 1.0 if x_at is None else float(person[x_at])
                rows.append((weight, float(person[y_at]), x))
            wx = sum(w * x for w, _, x in rows)
            value = sum(w * y for w, y, _ in rows) / wx if wx else None
            variance = (
                sum(w * w * (y - value * x) ** 2 for w, y, x in rows) / wx**2
                if value is not None
                else None
            )
            groups[flag] = (value, variance, len(rows))
        (vm, varm, nm), (vn, varn, nn) = groups[True], groups[False]
        ratio = vm / vn if vm and vn else None
        se = math.sqrt(varm / vm**2 + varn / vn**2) if ratio else None
        out[metric] = {
            "members": nm,
            "matched_non_members": nn,
            "member_value": vm,
            "non_member_value": vn,
            "ratio": ratio,
            "ratio_low": ratio * math.exp(-Z95 * se) if ratio else None,
            "ratio_high": ratio * math.exp(Z95 * se) if ratio else None,
        }
    return out


def test_member_comparison_equals_an_independent_computation(built_warehouse) -> None:
    people = built_warehouse.query(
        "select person_id, is_member, tenure_bucket, spend_bucket, emails_delivered, "
        "emails_opened, orders, revenue from intermediate.int_community_comparison_people"
    )
    assert sum(1 for p in people if p[1]) >= 20
    expected = _compare(people)
    columns = [
        "members",
        "matched_non_members",
        "member_value",
        "non_member_value",
        "ratio",
        "ratio_low",
        "ratio_high",
    ]
    rows = built_warehouse.query(
        f"select metric, {', '.join(columns)} from metrics.community_member_comparison"
    )
    assert {r[0] for r in rows} == set(expected)
    for metric, *values in rows:
        for name, value in zip(columns, values, strict=True):
            want = expected[metric][name]
            if want is None:
                assert value is None, (metric, name)
            else:
                assert float(value) == pytest.approx(want, abs=1e-6), (metric, name)
