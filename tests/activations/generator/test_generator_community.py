"""The generated brand community looks like a real one (2,000 customers x 60 days):
a minority of customers join, most members are quiet and a few write most of the
content, content is consistent with the shop (reviews of bought products, answers
after questions, no self-reactions, points never below zero), and members open and
buy more than non-members."""

from __future__ import annotations

import duckdb


def one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    rows = con.sql(sql).fetchall()
    assert len(rows) == 1, sql
    return rows[0]


def test_a_minority_joins_linked_to_accounts(shop: duckdb.DuckDBPyConnection) -> None:
    members, customers, linked, before_account, active = one(
        shop,
        """
        select count(*), (select count(*) from raw.customers),
               count(c.customer_id), count(*) filter (where m.joined_at < c.created_at),
               count(*) filter (where m.status = 'active')
        from raw.members m left join raw.customers c using (customer_id)""",
    )
    assert 0.08 <= members / customers <= 0.25
    assert linked == members and before_account == 0
    assert active >= 0.9 * members


def test_most_members_are_quiet_and_a_few_write_most(shop: duckdb.DuckDBPyConnection) -> None:
    members, contributors = one(
        shop,
        """
        select (select count(*) from raw.members),
               count(distinct member_id)
        from (select member_id from raw.posts union all select member_id from raw.answers)""",
    )
    assert contributors <= 0.6 * members  # most members post nothing in two months
    top_share = one(
        shop,
        """
        with per_member as (
            select member_id, count(*) as n
            from (select member_id from raw.posts union all select member_id from raw.answers)
            group by member_id),
        ranked as (select n, row_number() over (order by n desc) as r, count(*) over () as m
                   from per_member)
        select sum(n) filter (where r <= greatest(1, m / 10)) / sum(n) from ranked""",
    )[0]
    assert top_share >= 0.3  # the top tenth of contributors write a third or more


def test_content_is_consistent_with_the_shop(shop: duckdb.DuckDBPyConnection) -> None:
    reviews, rated, bought_before, bad_rating = one(
        shop,
        """
        select count(*), count(rating),
               count(*) filter (where exists (
                   select 1 from raw.orders o join raw.order_items i using (order_id)
                   join raw.members m on m.customer_id = o.customer_id
                   where m.member_id = p.member_id and i.product_id = p.product_id
                     and o.placed_at < p.created_at)),
               count(*) filter (where rating not between 1 and 5)
        from raw.posts p where kind = 'review'""",
    )
    assert reviews > 50 and rated == reviews and bad_rating == 0
    assert bought_before >= 0.25 * reviews  # the others: bought before the window
    (not_reviews_rated,) = one(
        shop, "select count(*) from raw.posts where kind <> 'review' and rating is not null"
    )
    assert not_reviews_rated == 0
    answers, after_question, own = one(
        shop,
        """
        select count(*),
               count(*) filter (where a.created_at > q.created_at and q.kind = 'question'),
               count(*) filter (where a.member_id = q.member_id)
        from raw.answers a join raw.posts q using (post_id)""",
    )
    assert answers > 0 and after_question == answers and own == 0
    reactions, self_reactions, late = one(
        shop,
        """
        with targets as (
            select 'post' as target_type, post_id as target_id, member_id, created_at
            from raw.posts
            union all
            select 'answer', answer_id, member_id, created_at from raw.answers)
        select count(*), count(*) filter (where r.member_id = t.member_id),
               count(*) filter (where r.created_at <= t.created_at)
        from raw.reactions r join targets t using (target_type, target_id)""",
    )
    assert reactions > 100 and self_reactions == 0 and late == 0
    (orphans,) = one(
        shop,
        """
        select count(*) from raw.reactions r
        where not exists (select 1 from raw.posts p where r.target_type = 'post'
                          and p.post_id = r.target_id)
          and not exists (select 1 from raw.answers a where r.target_type = 'answer'
                          and a.answer_id = r.target_id)""",
    )
    assert orphans == 0


def test_points_and_product_tests(shop: duckdb.DuckDBPyConnection, generated_window) -> None:
    _, end = generated_window
    (negative,) = one(
        shop,
        """
        select count(*) from (
            select member_id, sum(points) over (partition by member_id order by occurred_at,
                   movement_id) as balance
            from raw.point_movements) where balance < 0""",
    )
    assert negative == 0
    (redemptions,) = one(
        shop, "select count(*) from raw.point_movements where reason = 'redemption'"
    )
    assert redemptions > 0
    (open_now,) = one(
        shop,
        f"""select count(*) from raw.product_tests
            where applications_open_at <= timestamp '{end}'
              and applications_close_at > timestamp '{end}'""",
    )
    assert open_now == 1
    results, from_selected, after_close = one(
        shop,
        """
        select count(*), count(*) filter (where a.status = 'selected'),
               count(*) filter (where r.submitted_at > t.applications_close_at)
        from raw.product_test_results r join raw.product_test_applications a
            using (application_id)
        join raw.product_tests t on t.product_test_id = r.product_test_id""",
    )
    assert results > 0 and from_selected == results and after_close == results


def test_members_open_and_buy_more(shop: duckdb.DuckDBPyConnection, generated_window) -> None:
    """Members (joined before the window) against accounts that never joined: the
    generator's effect plus who joins; dbt's matched comparison separates the two."""
    start, _ = generated_window
    rows = shop.sql(
        f"""
        with people as (
            select c.customer_id, m.member_id is not null as is_member
            from raw.customers c left join raw.members m using (customer_id)
            where c.created_at < timestamp '{start}'
              and (m.joined_at is null or m.joined_at < timestamp '{start}')),
        orders as (
            select customer_id, count(*) as n from raw.orders
            where status in ('paid', 'shipped') group by customer_id),
        emails as (
            select customer_id,
                   count(distinct message_id) filter (where event_type = 'delivered') as d,
                   count(distinct message_id) filter (where event_type = 'opened') as o
            from raw.email_events group by customer_id)
        select is_member, count(*), sum(coalesce(orders.n, 0)) / count(*),
               sum(emails.o) / sum(emails.d)
        from people left join orders using (customer_id) left join emails using (customer_id)
        group by is_member order by is_member"""
    ).fetchall()
    (_, non_members, non_orders, non_open), (_, members, member_orders, member_open) = rows
    assert members > 50 and non_members > 500
    assert 1.1 <= member_orders / non_orders <= 3.0  # real and moderate
    assert 1.05 <= member_open / non_open <= 1.6
