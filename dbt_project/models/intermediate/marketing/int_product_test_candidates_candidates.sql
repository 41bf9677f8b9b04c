-- Candidates for the product tests open at as_of (applications_open_at <=
-- as_of < applications_close_at): active members with a shop account who
-- bought a product of the tested product's subcategory (completed orders in
-- the product_test_purchase_window_days before as_of) and published at least
-- product_test_min_reviews reviews before as_of, and have not applied to that
-- test yet. One row per person: the open test closing first (then by id).
-- entered_at = the latest of the test's opening, the person's first review
-- and their first qualifying purchase in the window.

with

tests as (
    select
        tests.product_test_id,
        tests.product_id,
        tests.applications_open_at,
        tests.applications_close_at,
        products.product_name,
        products.subcategory
    from {{ ref('stg_community__product_tests') }} as tests
    inner join {{ ref('stg_shop__products') }} as products
        on tests.product_id = products.product_id
    where
        tests.applications_open_at <= {{ as_of_ts() }}
        and tests.applications_close_at > {{ as_of_ts() }}
),

members as (
    select
        member_id,
        customer_id
    from {{ ref('stg_community__members') }}
    where
        is_active
        and customer_id is not null
        and joined_at <= {{ as_of_ts() }}
),

reviews as (
    select
        member_id,
        count(*) as review_count,
        min(created_at) as first_review_at
    from {{ ref('int_community_contributions_unioned') }}
    where contribution_type = 'review'
    group by member_id
),

purchases as (
    select
        orders.customer_id,
        products.subcategory,
        count(distinct orders.order_id) as order_count,
        min(orders.placed_at) as first_purchase_at
    from {{ ref('orders') }} as orders
    inner join {{ ref('stg_shop__order_items') }} as items
        on orders.order_id = items.order_id
    inner join {{ ref('stg_shop__products') }} as products
        on items.product_id = products.product_id
    where
        orders.is_completed
        and orders.customer_id is not null
        and orders.placed_at <= {{ as_of_ts() }}
        and orders.placed_at
        > {{ dbt.dateadd('day', -1 * var('product_test_purchase_window_days'), as_of_ts()) }}
    group by orders.customer_id, products.subcategory
),

applied as (
    select distinct
        member_id,
        product_test_id
    from {{ ref('stg_community__product_test_applications') }}
    where applied_at <= {{ as_of_ts() }}
),

eligible as (
    select
        members.customer_id,
        members.member_id,
        tests.product_test_id,
        tests.product_id,
        tests.product_name,
        tests.subcategory,
        tests.applications_open_at,
        tests.applications_close_at,
        reviews.review_count,
        reviews.first_review_at,
        purchases.order_count,
        purchases.first_purchase_at
    from members
    inner join reviews
        on members.member_id = reviews.member_id
    cross join tests
    inner join purchases
        on
            members.customer_id = purchases.customer_id
            and tests.subcategory = purchases.subcategory
    left join applied
        on
            members.member_id = applied.member_id
            and tests.product_test_id = applied.product_test_id
    where
        reviews.review_count >= {{ var('product_test_min_reviews') }}
        and applied.member_id is null
),

ranked as (
    select
        eligible.*,
        case
            when
                eligible.applications_open_at >= eligible.first_review_at
                and eligible.applications_open_at >= eligible.first_purchase_at
                then eligible.applications_open_at
            when
                eligible.first_review_at >= eligible.first_purchase_at
                then eligible.first_review_at
            else eligible.first_purchase_at
        end as qualified_at,
        row_number() over (
            partition by eligible.customer_id
            order by
                eligible.applications_close_at,
                eligible.product_test_id,
                eligible.member_id
        ) as test_rank
    from eligible
)

select
    customer_id as person_id,
    qualified_at as entered_at,
    member_id,
    product_test_id,
    product_id,
    product_name,
    subcategory as product_subcategory,
    applications_close_at,
    cast(review_count as integer) as review_count,
    cast(order_count as integer) as category_order_count
from ranked
where test_rank = 1
