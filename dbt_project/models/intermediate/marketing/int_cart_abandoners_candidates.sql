-- Known people whose latest cart (Product Added / Checkout Started) saw no
-- order since, by stage of hours since the last cart activity (as_of - last
-- activity):
--   [first_reminder_hours, second_reminder_hours) -> 'reminder_1h'
--   [second_reminder_hours, window_hours) -> 'reminder_24h' (with incentive)
-- A person leaves as soon as any order of theirs is placed at or after the
-- cart's last activity (or an order names the cart), whatever its status. One
-- row per person: their most recently active abandoned cart.
-- Carts and their lines come summarised (int_carts_summarized,
-- int_cart_lines_summarized, incremental), not from every event; only a cart
-- with calls after as_of (a build as of an earlier moment) is taken from its
-- calls up to as_of.

with

cart_summaries as (
    select *
    from {{ ref('int_carts_summarized') }}
    where first_activity_at <= {{ as_of_ts() }}
),

late_cart_events as (
    -- the calls up to as_of of the carts called after it
    select
        events.customer_id,
        events.cart_id,
        events.event_name,
        events.event_at,
        events.product_id,
        events.price,
        coalesce(events.quantity, 1) as quantity,
        events.revenue
    from {{ ref('int_events_identified') }} as events
    inner join cart_summaries
        on events.cart_id = cart_summaries.cart_id
    where
        cart_summaries.last_event_at > {{ as_of_ts() }}
        and events.event_name in (
            'Product Added', 'Product Removed', 'Checkout Started'
        )
        and events.customer_id is not null
        and events.event_at <= {{ as_of_ts() }}
),

carts as (
    select
        customer_id,
        cart_id,
        last_activity_at,
        checkout_value,
        checkout_started
    from cart_summaries
    where last_event_at <= {{ as_of_ts() }}
    union all
    select
        customer_id,
        cart_id,
        max(event_at) as last_activity_at,
        max(case when event_name = 'Checkout Started' then revenue end)
            as checkout_value,
        max(case when event_name = 'Checkout Started' then 1 else 0 end) = 1
            as checkout_started
    from late_cart_events
    where event_name in ('Product Added', 'Checkout Started')
    group by customer_id, cart_id
),

orders as (
    select
        customer_id,
        cart_id,
        placed_at
    from {{ ref('orders') }}
    where placed_at <= {{ as_of_ts() }}
),

ordered_carts as (
    select distinct cart_id
    from orders
    where cart_id is not null
),

last_orders as (
    select
        customer_id,
        max(placed_at) as last_placed_at
    from orders
    where customer_id is not null
    group by customer_id
),

abandoned as (
    select
        carts.*,
        {{ dbt.datediff('carts.last_activity_at', as_of_ts(), 'second') }}
        / 3600.0 as hours_since
    from carts
    left join ordered_carts
        on carts.cart_id = ordered_carts.cart_id
    left join last_orders
        on carts.customer_id = last_orders.customer_id
    where
        ordered_carts.cart_id is null
        and (
            last_orders.last_placed_at is null
            or last_orders.last_placed_at < carts.last_activity_at
        )
),

staged as (
    select
        abandoned.*,
        case
            when
                abandoned.hours_since
                >= {{ var('cart_abandon_second_reminder_hours') }}
                then 'reminder_24h'
            else 'reminder_1h'
        end as stage,
        row_number() over (
            partition by abandoned.customer_id
            order by abandoned.last_activity_at desc, abandoned.cart_id desc
        ) as cart_rank
    from abandoned
    where
        abandoned.hours_since >= {{ var('cart_abandon_first_reminder_hours') }}
        and abandoned.hours_since < {{ var('cart_abandon_window_hours') }}
),

latest_carts as (
    select * from staged
    where cart_rank = 1
),

lines as (
    select
        cart_lines.cart_id,
        cart_lines.product_id,
        cart_lines.quantity,
        cart_lines.event_price
    from {{ ref('int_cart_lines_summarized') }} as cart_lines
    where
        cart_lines.cart_id in (select latest_carts.cart_id from latest_carts)
        and cart_lines.cart_id not in (
            select late_cart_events.cart_id from late_cart_events
        )
    union all
    select
        cart_id,
        product_id,
        {{ net_cart_quantity() }} as quantity,
        max(price) as event_price
    from late_cart_events
    where
        event_name in ('Product Added', 'Product Removed')
        and product_id is not null
        and cart_id in (select latest_carts.cart_id from latest_carts)
    group by cart_id, product_id
),

items as (
    select
        lines.cart_id,
        lines.product_id,
        products.product_name,
        products.image_url,
        products.product_url,
        lines.quantity,
        cast(coalesce(products.price, lines.event_price) as decimal(12, 2)) as unit_price
    from lines
    left join {{ ref('stg_shop__products') }} as products
        on lines.product_id = products.product_id
    where lines.quantity > 0
),

cart_contents as (
    select
        cart_id,
        count(*) as item_count,
        sum(quantity * unit_price) as items_value,
        {{ json_array_agg([
            ['product_id', 'product_id'],
            ['name', 'product_name'],
            ['price', 'unit_price'],
            ['quantity', 'quantity'],
            ['image_url', 'image_url'],
            ['product_url', 'product_url'],
        ], 'product_id') }} as cart_items
    from items
    group by cart_id
)

select
    latest_carts.customer_id as person_id,
    {{ dbt.dateadd(
        'hour',
        "case when latest_carts.stage = 'reminder_24h' then "
            ~ var('cart_abandon_second_reminder_hours') ~ " else "
            ~ var('cart_abandon_first_reminder_hours') ~ " end",
        'latest_carts.last_activity_at'
    ) }} as entered_at,
    latest_carts.stage,
    latest_carts.cart_id,
    latest_carts.last_activity_at as abandoned_at,
    latest_carts.checkout_started,
    cast(coalesce(cart_contents.items_value, latest_carts.checkout_value, 0) as decimal(12, 2))
        as cart_value,
    cast(coalesce(cart_contents.item_count, 0) as integer) as item_count,
    coalesce(cart_contents.cart_items, '[]') as cart_items,
    cast(
        case when latest_carts.stage = 'reminder_24h' then {{ var('cart_abandon_incentive_percent') }} end
        as integer
    ) as incentive_percent
from latest_carts
left join cart_contents
    on latest_carts.cart_id = cart_contents.cart_id
