-- Known people with an order still in status pending_payment that was placed at
-- least pending_payment_hours and less than pending_payment_window_hours before
-- as_of. One row per person: their latest such order. entered_at = placed_at +
-- pending_payment_hours.

with

pending as (
    select
        customer_id,
        order_id,
        placed_at,
        total,
        item_count,
        {{ dbt.datediff('placed_at', as_of_ts(), 'second') }} / 3600.0 as hours_pending
    from {{ ref('orders') }}
    where
        status = 'pending_payment'
        and customer_id is not null
        and placed_at <= {{ as_of_ts() }}
),

due as (
    select
        pending.*,
        row_number() over (
            partition by pending.customer_id
            order by pending.placed_at desc, pending.order_id desc
        ) as order_rank
    from pending
    where
        pending.hours_pending >= {{ var('pending_payment_hours') }}
        and pending.hours_pending < {{ var('pending_payment_window_hours') }}
)

select
    customer_id as person_id,
    {{ dbt.dateadd('hour', var('pending_payment_hours'), 'placed_at') }} as entered_at,
    order_id,
    placed_at,
    cast(total as decimal(12, 2)) as order_total,
    cast(item_count as integer) as item_count,
    cast(floor(hours_pending) as integer) as hours_pending
from due
where order_rank = 1
