-- Completed orders (paid or shipped: cancelled, refunded and pending orders do
-- not count) placed up to as_of, summarized per customer. recency_days = whole
-- days between the date of the last completed order and the as_of date (UTC
-- dates: an order at 23:59 and as_of at 00:01 the next day = 1 day).

with

completed as (
    select
        customer_id,
        order_id,
        placed_at,
        total
    from {{ ref('orders') }}
    where
        is_completed
        and customer_id is not null
        and placed_at <= {{ as_of_ts() }}
)

select
    customer_id,
    count(*) as order_count,
    cast(sum(total) as decimal(12, 2)) as total_revenue,
    cast(avg(total) as decimal(12, 2)) as average_order_value,
    min(placed_at) as first_order_at,
    max(placed_at) as last_order_at,
    {{ dbt.datediff('cast(max(placed_at) as date)', as_of_date(), 'day') }} as recency_days
from completed
group by customer_id
