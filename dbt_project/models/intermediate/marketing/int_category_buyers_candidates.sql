-- Customers with a completed order in the last category_window_days (elapsed
-- time), by what they bought in that window: food only, non-food only, or mixed
-- (both, in one order or across orders). For one-off campaigns: recompute right
-- before the send. entered_at = their latest completed order in the window.

with

orders as (
    select
        customer_id,
        placed_at,
        total,
        has_food,
        has_non_food
    from {{ ref('orders') }}
    where
        is_completed
        and customer_id is not null
        and placed_at <= {{ as_of_ts() }}
        and placed_at > {{ dbt.dateadd('day', -1 * var('category_window_days'), as_of_ts()) }}
),

per_customer as (
    select
        customer_id,
        max(case when has_food then 1 else 0 end) as bought_food,
        max(case when has_non_food then 1 else 0 end) as bought_non_food,
        count(*) as order_count,
        sum(total) as revenue,
        max(placed_at) as last_order_at
    from orders
    group by customer_id
)

select
    customer_id as person_id,
    last_order_at as entered_at,
    case
        when bought_food = 1 and bought_non_food = 1 then 'mixed'
        when bought_food = 1 then 'food'
        else 'non-food'
    end as buyer_type,
    cast(order_count as integer) as order_count,
    cast(revenue as decimal(12, 2)) as revenue
from per_customer
where bought_food = 1 or bought_non_food = 1
