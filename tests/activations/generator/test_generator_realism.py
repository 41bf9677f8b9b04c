"""The generated shop looks like a real one: the rates stated in activations/generator
stay within bounds on 2,000 customers x 60 days."""

from __future__ import annotations

import duckdb
import pytest


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    rows = con.sql(sql).fetchall()
    assert len(rows) == 1, sql
    return rows[0]


def test_catalog(shop: duckdb.DuckDBPyConnection) -> None:
    n, food, non_food, out, repl, lo, hi, urls = one(
        shop,
        """
        select count(*), count(*) filter (where category = 'food'),
               count(*) filter (where category = 'non-food'), count(*) filter (where not in_stock),
               count(*) filter (where replenishable), min(price), max(price),
               count(*) filter (where image_url like 'https://%' and product_url like 'https://%')
        from raw.products""",
    )
    assert 200 <= n <= 500
    assert food > 50 and non_food > 50
    assert 0.02 * n <= out <= 0.15 * n
    assert repl > 20
    assert 0.3 <= lo and hi < 200
    assert urls == n
    cycles = one(
        shop,
        """
        select min(replenish_cycle_days), max(replenish_cycle_days),
               count(*) filter (where replenishable <> (replenish_cycle_days is not null))
        from raw.products""",
    )
    assert cycles[0] >= 14 and cycles[1] <= 60 and cycles[2] == 0
    sql = "select distinct subcategory from raw.products where replenishable"
    subs = {r[0] for r in shop.sql(sql).fetchall()}
    assert {"coffee", "pet food", "detergent", "diapers"} <= subs


def test_cart_abandonment_is_about_seventy_percent(shop: duckdb.DuckDBPyConnection) -> None:
    carts, abandoned = one(
        shop,
        """
        with added as (
            select distinct json_extract_string(properties, '$.cart_id') as cart_id
            from raw.events where event = 'Product Added'),
        completed as (
            select distinct json_extract_string(properties, '$.cart_id') as cart_id
            from raw.events where event = 'Order Completed')
        select count(*), count(*) filter (where c.cart_id is null)
        from added a left join completed c using (cart_id)""",
    )
    assert carts > 1_000
    assert 0.65 <= abandoned / carts <= 0.75


def test_order_value_is_heavy_tailed(shop: duckdb.DuckDBPyConnection) -> None:
    mean, median, p99 = (
        float(x)
        for x in one(
            shop,
            """
        select avg(total), median(total), quantile_cont(total, 0.99) from raw.orders""",
        )
    )
    assert 25 <= median <= 90  # a grocery basket
    assert mean > 1.2 * median
    assert p99 > 3 * median


def test_weekends_are_quieter(shop: duckdb.DuckDBPyConnection) -> None:
    weekday, weekend = one(
        shop,
        """
        with daily as (
            select cast("timestamp" as date) as day, count(*) as n from raw.events
            where "timestamp" >= (select max("timestamp") from raw.events) - interval 56 days
            group by 1)
        select avg(n) filter (where isodow(day) <= 5), avg(n) filter (where isodow(day) >= 6)
        from daily""",
    )
    assert weekend < 0.85 * weekday


def test_repeat_purchase_is_pareto_like(shop: duckdb.DuckDBPyConnection) -> None:
    buyers, top_share, max_orders, share_single = one(
        shop,
        """
        with per as (select customer_id, count(*) as n from raw.orders group by 1),
        ranked as (select n, ntile(5) over (order by n desc) as q from per)
        select count(*), sum(n) filter (where q = 1) / sum(n), max(n),
               count(*) filter (where n = 1) / count(*)
        from ranked""",
    )
    assert buyers > 300
    assert top_share > 0.38  # the top 20% of buyers place well over a third of orders
    assert max_orders >= 10
    assert 0.3 <= share_single <= 0.8  # many buy once, a minority comes back often


def test_staples_are_rebought_near_their_cycle(shop: duckdb.DuckDBPyConnection) -> None:
    # per customer and product: the share of re-purchase gaps within 0.75-1.3 cycles;
    # other products are measured against a 30-day pseudo-cycle as the baseline
    rows = dict(
        shop.sql("""
        with bought as (
            select distinct o.customer_id, i.product_id, o.placed_at, p.replenishable,
                   coalesce(p.replenish_cycle_days, 30) as cycle
            from raw.order_items i join raw.orders o using (order_id)
            join raw.products p using (product_id)),
        gaps as (
            select customer_id, product_id, replenishable,
                   date_diff('hour', lag(placed_at) over (
                       partition by customer_id, product_id order by placed_at), placed_at)
                   / 24.0 / cycle as ratio
            from bought),
        pairs as (
            select replenishable,
                   avg(case when ratio between 0.75 and 1.3 then 1 else 0 end) as near
            from gaps where ratio is not null group by customer_id, product_id, replenishable)
        select replenishable, avg(near) from pairs group by 1""").fetchall()
    )
    assert rows[True] > 0.35
    assert rows[True] > 1.4 * rows[False]


def test_order_statuses(shop: duckdb.DuckDBPyConnection) -> None:
    rows = dict(shop.sql("select status, count(*) from raw.orders group by 1").fetchall())
    total = sum(rows.values())
    assert set(rows) == {"pending_payment", "paid", "shipped", "cancelled", "refunded"}
    assert (rows["paid"] + rows["shipped"]) / total > 0.85
    assert 0.02 <= (rows["cancelled"] + rows["refunded"]) / total <= 0.06
    recent_pending = one(
        shop,
        """
        select count(*) filter (where placed_at > timestamp '2026-06-28 12:00') / count(*)
        from raw.orders where status = 'pending_payment'""",
    )[0]
    assert recent_pending > 0.5


def test_customers_are_messy_like_real_people(shop: duckdb.DuckDBPyConnection) -> None:
    n, capitals, spaces, invalid, births, dupes = one(
        shop,
        """
        select count(*),
               count(*) filter (where email <> lower(email)),
               count(*) filter (where email <> trim(email)),
               count(*) filter (where not regexp_matches(trim(email), '^[^@ ]+@[^@ ]+\\.[^@ ]+$')),
               count(birth_date), count(*) - count(distinct lower(trim(email)))
        from raw.customers""",
    )
    assert 0.02 * n <= capitals <= 0.1 * n
    assert 0.005 * n <= spaces <= 0.05 * n
    assert 1 <= invalid <= 0.02 * n
    assert 0.8 * n <= births <= 0.97 * n
    assert dupes == 0
    oldest, youngest = one(shop, "select min(birth_date), max(birth_date) from raw.customers")
    assert oldest.year > 1920 and youngest.year <= 2008


def test_newsletter_popup_and_double_opt_in(shop: duckdb.DuckDBPyConnection) -> None:
    shown, submitted = one(
        shop,
        """
        select count(*) filter (where event = 'Newsletter Popup Shown'),
               count(*) filter (where event = 'Newsletter Signup Submitted') from raw.events""",
    )
    assert shown > 300
    assert 0.03 <= submitted / shown <= 0.08
    signups, confirmed = one(
        shop,
        """
        select count(distinct email),
               count(distinct email) filter (where double_opt_in_confirmed_at is not null)
        from raw.consents where source in ('popup', 'checkout') and status = 'subscribed'""",
    )
    assert 0.6 <= confirmed / signups <= 0.8
    before_account = one(
        shop,
        """
        select count(*) from raw.consents where source = 'popup' and customer_id is null""",
    )[0]
    assert before_account > 0


def test_unsubscribes_rise_with_tenure(shop: duckdb.DuckDBPyConnection) -> None:
    rows = shop.sql("""
        with confirmed as (
            select email, min(double_opt_in_confirmed_at) as since from raw.consents
            where double_opt_in_confirmed_at is not null group by 1),
        delivered as (
            select e.message_id, e.email, e.occurred_at,
                   date_diff('day', c.since, e.occurred_at) >= 365 as long_tenure
            from raw.email_events e join confirmed c using (email)
            where e.event_type = 'delivered'),
        unsub as (
            select distinct message_id from raw.email_events where event_type = 'unsubscribed')
        select long_tenure, count(*), count(u.message_id)
        from delivered d left join unsub u using (message_id) group by 1 order by 1""").fetchall()
    (_, short_n, short_u), (_, long_n, long_u) = rows
    assert long_u / long_n > short_u / short_n


def test_email_rates(shop: duckdb.DuckDBPyConnection) -> None:
    r = dict(shop.sql("select event_type, count(*) from raw.email_events group by 1").fetchall())
    sent, delivered = r["sent"], r["delivered"]
    assert sent > 5_000
    assert 0.97 <= delivered / sent <= 0.99
    assert 0.005 <= r["bounced"] / sent <= 0.02
    assert 0.20 <= r["opened"] / delivered <= 0.45
    assert 0.02 <= r["clicked"] / delivered <= 0.05
    assert 0.001 <= r["unsubscribed"] / delivered <= 0.005
    assert r.get("spam", 0) / delivered < 0.002
    hard = one(shop, "select count(*) from raw.email_events where bounce_type = 'hard'")[0]
    assert 0 < hard < r["bounced"]
    programs = {p for (p,) in shop.sql("select distinct program from raw.campaigns").fetchall()}
    assert programs == {
        "newsletter",
        "cart_abandoners",
        "browse_abandoners",
        "welcome_series",
        "dormant_customers",
        "replenishment_due",
        "birthday_upcoming",
        "first_order_followup",
        "order_milestones",
        "coupon_expiring",
    }


@pytest.mark.parametrize(("test", "rate"), [("subject", "opened"), ("image", "clicked")])
def test_ab_variants_differ(shop: duckdb.DuckDBPyConnection, test: str, rate: str) -> None:
    rows = dict(
        shop.sql(f"""
        select variant, count(*) filter (where event_type = '{rate}')
                        / count(*) filter (where event_type = 'delivered')
        from raw.email_events join raw.campaigns using (campaign_id)
        where ab_test = '{test}' and event_type <> 'held_out'  -- control groups get no variant
        group by 1""").fetchall()
    )
    assert set(rows) == {"A", "B"}
    assert rows["B"] > 1.15 * rows["A"]


def test_emails_only_reach_confirmed_subscribers(shop: duckdb.DuckDBPyConnection) -> None:
    bad = one(
        shop,
        """
        with log as (
            select lower(trim(email)) as email, status, double_opt_in_confirmed_at, changed_at
            from raw.consents),
        sent as (
            select message_id, email, occurred_at from raw.email_events where event_type = 'sent')
        select count(*) filter (where not exists (
                   select 1 from log where log.email = sent.email
                   and log.double_opt_in_confirmed_at <= sent.occurred_at)),
               count(*) filter (where exists (
                   select 1 from log where log.email = sent.email
                   and log.status <> 'subscribed' and log.changed_at < sent.occurred_at))
        from sent""",
    )
    assert bad == (0, 0)


def test_clicks_bring_visits_and_orders(shop: duckdb.DuckDBPyConnection) -> None:
    visits, orders_after_click = one(
        shop,
        """
        with clicks as (
            select customer_id, occurred_at from raw.email_events where event_type = 'clicked')
        select (select count(*) from raw.events
                where json_extract_string(context, '$.campaign.medium') = 'email'),
               (select count(distinct o.order_id) from raw.orders o join clicks c
                  on o.customer_id = c.customer_id
                 and o.placed_at between c.occurred_at and c.occurred_at + interval 7 days)""",
    )
    assert visits > 100
    assert orders_after_click > 30


def test_coupons_issued_and_redeemed(shop: duckdb.DuckDBPyConnection) -> None:
    issued, redeemed, linked, values = one(
        shop,
        """
        select count(*), count(redeemed_at), count(order_id),
               list(distinct value_type || ':' || cast(value as integer) order by 1)
        from raw.coupons""",
    )
    assert issued > 200
    assert 0.15 <= redeemed / issued <= 0.30
    assert linked == redeemed
    assert {"amount:5", "amount:10", "percent:10"} <= set(values)
    mismatched = one(
        shop,
        """
        select count(*) from raw.coupons c join raw.orders o using (order_id)
        where o.coupon_code <> c.coupon_code or o.discount <= 0
           or o.placed_at not between c.issued_at and c.expires_at""",
    )[0]
    assert mismatched == 0


def test_chatbot_conversations(shop: duckdb.DuckDBPyConnection) -> None:
    started, ended, unresolved = one(
        shop,
        """
        select count(*) filter (where event = 'Chatbot Started'),
               count(*) filter (where event = 'Chatbot Ended'),
               count(*) filter (where event = 'Chatbot Ended'
                                and json_extract_string(properties, '$.resolved') = 'false')
        from raw.events""",
    )
    assert started > 100
    assert ended <= started
    assert 0.1 * ended <= unresolved <= 0.45 * ended
    # some conversations are followed by a purchase in the same visit
    followed = one(
        shop,
        """
        select count(distinct c.anonymous_id || c."timestamp")
        from raw.events c join raw.events o
          on o.anonymous_id = c.anonymous_id and o.event = 'Order Completed'
         and o."timestamp" between c."timestamp" and c."timestamp" + interval 1 hour
        where c.event = 'Chatbot Ended'""",
    )[0]
    assert 0.02 * ended <= followed <= 0.5 * ended


def test_anonymous_visits_are_identified_later(shop: duckdb.DuckDBPyConnection) -> None:
    anonymous, later_identified = one(
        shop,
        """
        with anon as (
            select anonymous_id, min("timestamp") as first_seen from raw.events
            where user_id is null group by 1)
        select count(*), count(*) filter (where exists (
            select 1 from raw.identifies i where i.anonymous_id = anon.anonymous_id
            and i."timestamp" > anon.first_seen))
        from anon""",
    )
    assert anonymous > 500
    assert later_identified / anonymous > 0.5
    sql = "select count(*) filter (where user_id is null) / count(*) from raw.events"
    share_anonymous = one(shop, sql)[0]
    assert 0.3 <= share_anonymous <= 0.8
