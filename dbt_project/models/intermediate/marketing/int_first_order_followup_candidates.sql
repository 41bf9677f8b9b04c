-- Customers whose first completed order (cancelled, refunded and pending orders
-- do not count) was placed at least first_order_followup_days before as_of, for
-- first_order_followup_window_days after that (elapsed time). entered_at =
-- first order + first_order_followup_days days.

with

first_orders as (
    select
        customer_id,
        order_id,
        placed_at,
        total,
        row_number() over (partition by customer_id order by placed_at, order_id) as completed_rank
    from {{ ref('orders') }}
    where
        is_completed
        and customer_id is not null
        and placed_at <= {{ as_of_ts() }}
),

followups as (
    select
        customer_id,
        order_id,
        placed_at,
        total,
        {{ dbt.dateadd('day', var('first_order_followup_days'), 'placed_at') }} as due_at
    from first_orders
    where completed_rank = 1
)

select
    customer_id as person_id,
    due_at as entered_at,
    order_id as first_order_id,
    placed_at as first_order_at,
    cast(total as decimal(12, 2)) as first_order_total
from followups
where
    due_at <= {{ as_of_ts() }}
    and due_at > {{ dbt.dateadd('day', -1 * var('first_order_followup_window_days'), as_of_ts()) }}
