"""Audiences on the generated shop: every audience built, non-empty, under the
shared contract, and the contact policy checked independently from raw data:
nobody who opted out and nobody over the frequency cap is ever sendable, and
control groups are a stable function of person and audience."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from decimal import Decimal

import pytest

AUDIENCES = (
    "cart_abandoners",
    "browse_abandoners",
    "pending_payment",
    "welcome_series",
    "dormant_customers",
    "rfm_segments",
    "replenishment_due",
    "birthday_upcoming",
    "first_order_followup",
    "order_milestones",
    "newsletter_prospects",
    "coupon_expiring",
    "category_buyers",
    "community_ambassadors",
    "product_test_candidates",
    "engaged_non_buyers",
)

CONTRACT = [
    ("person_id", "VARCHAR"),
    ("email", "VARCHAR"),
    ("entered_at", "TIMESTAMP"),
    ("audience", "VARCHAR"),
    ("is_sendable", "BOOLEAN"),
    ("suppression_reason", "VARCHAR"),
    ("is_control", "BOOLEAN"),
]

# every sendable row of every audience, with its channel and cap setting
SENDABLE = " union all ".join(
    f"select person_id, email, audience from audiences.{a} where is_sendable" for a in AUDIENCES
)
SENDABLE_OR_NOT = " union all ".join(
    f"select person_id, email, is_sendable, suppression_reason from audiences.{a}"
    for a in AUDIENCES
)
ALL_ROWS = " union all ".join(
    f"select person_id, audience, is_control, is_sendable, suppression_reason, entered_at"
    f" from audiences.{a}"
    for a in AUDIENCES
)

# Opt-outs straight from the raw landing tables (not from any model): the
# consent log's unsubscribed / bounced / spam_complaint rows and the ESP's
# unsubscribe, spam and hard-bounce events, with normalised addresses.
RAW_OPT_OUTS = """
    select customer_id, lower(trim(email)) as email, changed_at as at
    from raw.consents
    where channel = 'email' and status in ('unsubscribed', 'bounced', 'spam_complaint')
      and changed_at <= $as_of
    union all
    select customer_id, lower(trim(email)), occurred_at
    from raw.email_events
    where (event_type in ('unsubscribed', 'spam')
           or (event_type = 'bounced' and bounce_type = 'hard'))
      and occurred_at <= $as_of
"""
RAW_SUBSCRIPTIONS = """
    select customer_id, lower(trim(email)) as email, changed_at as at,
        double_opt_in_confirmed_at <= $as_of as confirmed
    from raw.consents
    where channel = 'email' and status = 'subscribed' and changed_at <= $as_of
"""


@pytest.fixture(scope="module")
def policies(built_warehouse) -> dict[str, dict[str, object]]:
    rows = built_warehouse.query(
        "select audience, channel, control_share, counts_toward_cap from seeds.audience_policies"
    )
    return {
        a: {"channel": ch, "control_share": share, "counts_toward_cap": cap}
        for a, ch, share, cap in rows
    }


def _sql(sql: str, built_warehouse) -> str:
    return sql.replace("$as_of", f"timestamp '{built_warehouse.as_of:%Y-%m-%d %H:%M:%S}'")


def test_every_audience_leads_with_the_shared_contract(built_warehouse):
    for audience in AUDIENCES:
        columns = built_warehouse.query(
            "select column_name, data_type from information_schema.columns"
            " where table_schema = 'audiences' and table_name = ? order by ordinal_position",
            [audience],
        )
        assert columns[: len(CONTRACT)] == CONTRACT, audience
        assert len(columns) > len(CONTRACT), f"{audience} has no attributes"


def test_every_audience_has_members_and_one_row_per_person(built_warehouse):
    sizes = {}
    for audience in AUDIENCES:
        ((rows, people, sendable, named),) = built_warehouse.query(
            f"select count(*), count(distinct person_id), count(*) filter (where is_sendable),"
            f" count(*) filter (where audience = '{audience}') from audiences.{audience}"
        )
        assert rows > 0, f"{audience} is empty on the demo data"
        assert rows == people == named, audience
        sizes[audience] = (rows, sendable)
    assert sum(sendable for _, sendable in sizes.values()) > 0
    # the policy both lets people through and stops some: it is really applied
    reasons = {
        r for (r,) in built_warehouse.query(f"select distinct suppression_reason from ({ALL_ROWS})")
    }
    assert None in reasons and len(reasons - {None}) >= 3, reasons


def test_sendable_means_no_reason_and_entry_not_after_as_of(built_warehouse):
    ((bad,),) = built_warehouse.query(
        f"select count(*) from ({ALL_ROWS}) where is_sendable = (suppression_reason is not null)"
        f" or (is_control and is_sendable) or entered_at > ?",
        [built_warehouse.as_of],
    )
    assert bad == 0


def test_nobody_who_opted_out_is_sendable(built_warehouse, policies):
    """Checked from raw tables only: a sendable person of an email audience has a
    confirmed subscription and no opt-out (by person or by address) since; an on-site
    audience never reaches someone whose last word (confirmed or not) was an opt-out."""
    email_audiences = [a for a, p in policies.items() if p["channel"] == "email"]
    assert set(email_audiences) | {"newsletter_prospects"} == set(AUDIENCES)
    in_list = ", ".join(f"'{a}'" for a in email_audiences)
    sql = f"""
        with sendable as ({SENDABLE}),
        opt_outs as ({RAW_OPT_OUTS}),
        subs as ({RAW_SUBSCRIPTIONS}),
        last_sub as (
            select s.person_id, s.audience,
                max(subs.at) filter (where subs.confirmed) as at,
                max(subs.at) as any_at
            from sendable s left join subs
              on subs.customer_id = s.person_id or subs.email = s.email
            group by all
        ),
        last_out as (
            select s.person_id, s.audience, max(o.at) as at
            from sendable s join opt_outs o
              on o.customer_id = s.person_id or o.email = s.email
            group by all
        )
        select s.audience, s.person_id, last_sub.at, last_out.at
        from sendable s
        join last_sub using (person_id, audience)
        left join last_out using (person_id, audience)
        where (s.audience in ({in_list}) and (last_sub.at is null or last_out.at >= last_sub.at))
           or (s.audience not in ({in_list})
               and last_out.at >= coalesce(last_sub.any_at, last_out.at))
    """
    offenders = built_warehouse.query(_sql(sql, built_warehouse))
    assert offenders == []
    # and the demo data does hold opted-out people in the audiences, flagged
    ((flagged,),) = built_warehouse.query(
        f"select count(*) from ({ALL_ROWS}) where suppression_reason in"
        " ('unsubscribed', 'hard_bounce', 'spam_complaint')"
    )
    assert flagged > 0


def test_nobody_over_the_frequency_cap_is_sendable(built_warehouse, policies):
    """Sends counted from raw.email_events ('sent', by the campaign's program) in the
    rolling period plus sendable rows of capped audiences never exceed the cap."""
    cap = _var(built_warehouse, "frequency_cap_messages")
    days = _var(built_warehouse, "frequency_cap_days")
    uncapped = [a for a, p in policies.items() if not p["counts_toward_cap"]]
    not_in = ", ".join(f"'{a}'" for a in uncapped) or "''"
    since = built_warehouse.as_of - timedelta(days=days)
    sql = f"""
        with planned as (
            select person_id, count(*) as n from ({SENDABLE})
            where audience not in ({not_in}) group by person_id
        ),
        sent as (
            select coalesce(e.customer_id, c.customer_id) as person_id, count(*) as n
            from raw.email_events e
            left join raw.campaigns k on e.campaign_id = k.campaign_id
            left join raw.customers c
              on e.customer_id is null and lower(trim(e.email)) = lower(trim(c.email))
            where e.event_type = 'sent' and e.occurred_at > ? and e.occurred_at <= ?
              and coalesce(k.program, '') not in ({not_in})
            group by 1
        )
        select planned.person_id, planned.n, coalesce(sent.n, 0)
        from planned left join sent using (person_id)
        where planned.n + coalesce(sent.n, 0) > ?
    """
    assert built_warehouse.query(sql, [since, built_warehouse.as_of, cap]) == []
    ((capped,),) = built_warehouse.query(
        f"select count(*) from ({ALL_ROWS}) where suppression_reason in"
        " ('frequency_cap', 'lower_priority_audience')"
    )
    assert capped > 0, "the demo data never exercises the cap or the priorities"


def test_control_groups_follow_the_hash_of_person_and_audience(built_warehouse, policies):
    rows = built_warehouse.query(f"select person_id, audience, is_control from ({ALL_ROWS})")
    for person_id, audience, is_control in rows:
        digest = hashlib.md5(f"{person_id}:{audience}".encode()).hexdigest()
        share = Decimal(str(policies[audience]["control_share"]))
        assert is_control == (int(digest[:4], 16) < share * 65536), (person_id, audience)
    assert any(is_control for *_, is_control in rows)


def test_control_groups_are_identical_after_a_rebuild(warehouse_copy):
    def snapshot():
        return sorted(
            warehouse_copy.query(f"select person_id, audience, is_control from ({ALL_ROWS})")
        )

    before = snapshot()
    con = warehouse_copy.connect()
    try:  # drop the decisions so the rebuild really recomputes them
        con.execute("drop table intermediate.int_audience_memberships_decided")
    finally:
        con.close()
    warehouse_copy.dbt("run", select=["int_audience_memberships_decided+"])
    assert snapshot() == before


def test_people_without_an_email_stay_in_their_audiences_not_sendable(warehouse_copy):
    """A customer whose email disappears (null) or is blank stays in every audience
    they were in, with a null email, not sendable, reason missing_email; nobody
    else's decision changes and no audience loses a row."""
    decisions = (
        "select person_id, audience, is_sendable, suppression_reason, is_control"
        " from intermediate.int_audience_memberships_decided"
    )
    before = set(warehouse_copy.query(decisions))
    # two people of rfm_segments, sendable ones first: they lose their address
    chosen = [
        p
        for (p,) in warehouse_copy.query(
            "select person_id from audiences.rfm_segments"
            " order by is_sendable desc, person_id limit 2"
        )
    ]
    assert len(chosen) == 2
    con = warehouse_copy.connect()
    try:
        con.execute("update raw.customers set email = null where customer_id = ?", [chosen[0]])
        con.execute("update raw.customers set email = '   ' where customer_id = ?", [chosen[1]])
    finally:
        con.close()
    warehouse_copy.dbt(
        "run", select=["customers", "contact_policy", "int_audience_memberships_decided+"]
    )

    after = set(warehouse_copy.query(decisions))
    unchanged = {d for d in before if d[0] not in chosen}
    assert {d for d in after if d[0] not in chosen} == unchanged
    theirs = sorted(d for d in after if d[0] in chosen)
    assert len(theirs) == len([d for d in before if d[0] in chosen]) >= 2
    assert all(d[2:4] == (False, "missing_email") for d in theirs), theirs
    rows = warehouse_copy.query(
        f"select person_id, email, is_sendable, suppression_reason from ({SENDABLE_OR_NOT})"
        " where person_id in (?, ?)",
        chosen,
    )
    assert len(rows) == len(theirs)
    assert {(p, e, s, r) for p, e, s, r in rows} == {
        (p, None, False, "missing_email") for p, *_ in rows
    }
    assert warehouse_copy.query(
        "select count(*) from core.contact_policy where person_id in (?, ?)", chosen
    ) == [(0,)]


def test_cart_items_carry_what_the_email_needs(built_warehouse):
    """cart_items is JSON text: each product with its name, price, image and URL from
    the product table, and the quantity in the cart; cart_value is their sum."""
    products = {
        pid: (name, price, image, url)
        for pid, name, price, image, url in built_warehouse.query(
            "select product_id, product_name, price, image_url, product_url"
            " from staging.stg_shop__products"
        )
    }
    rows = built_warehouse.query(
        "select cart_items, cart_value, item_count, stage from audiences.cart_abandoners"
    )
    assert rows
    for cart_items, cart_value, item_count, stage in rows:
        items = json.loads(cart_items)
        assert len(items) == item_count
        assert stage in ("reminder_1h", "reminder_24h")
        for item in items:
            name, price, image, url = products[item["product_id"]]
            assert (item["name"], item["image_url"], item["product_url"]) == (name, image, url)
            assert Decimal(str(item["price"])) == price and item["quantity"] > 0
        if items:
            total = sum(Decimal(str(i["price"])) * i["quantity"] for i in items)
            assert total == cart_value
    assert any(json.loads(items) for items, *_ in rows)


def _var(built_warehouse, name: str) -> int:
    import yaml

    from activations.paths import DBT_PROJECT_DIR

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    return int(built_warehouse.vars.get(name, project["vars"][name]))
