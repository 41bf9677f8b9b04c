-- Known people who viewed products between browse_abandon_window_hours and
-- browse_abandon_wait_hours before as_of (both edges included) and, since the
-- start of that window, added nothing to a cart, started no checkout and placed
-- no order. The same-day suppression by a cart reminder is a contact-policy
-- rule (audience_policies.suppressed_by). One row per person, with the viewed
-- products. Views come summarised (int_product_views_summarized,
-- incremental); only a product viewed again after window_end has its views
-- inside the window read from the events, as the cart and order calls since
-- window_start are.

with

window_bounds as (
    select
        {{ dbt.dateadd('hour', -1 * var('browse_abandon_window_hours'), as_of_ts()) }} as window_start,
        {{ dbt.dateadd('hour', -1 * var('browse_abandon_wait_hours'), as_of_ts()) }} as window_end
),

view_pairs as (
    -- per customer and product, over their browsers: views summarised
    select
        customer_id,
        product_id,
        min(first_viewed_at) as first_viewed_at,
        max(last_viewed_at) as last_viewed_at
    from {{ ref('int_product_views_summarized') }}
    where
        last_viewed_at
        >= (select window_bounds.window_start from window_bounds)
    group by customer_id, product_id
),

settled_views as (
    -- last viewed inside the window: that view is the latest in it
    select
        customer_id,
        product_id,
        last_viewed_at
    from view_pairs
    where last_viewed_at <= (select window_bounds.window_end from window_bounds)
),

viewed_again as (
    -- viewed by window_end and again after it: the latest view inside the
    -- window from the events of just these pairs
    select
        events.customer_id,
        events.product_id,
        max(events.event_at) as last_viewed_at
    from {{ ref('int_events_identified') }} as events
    inner join view_pairs
        on
            events.customer_id = view_pairs.customer_id
            and events.product_id = view_pairs.product_id
    cross join window_bounds
    where
        view_pairs.last_viewed_at > window_bounds.window_end
        and view_pairs.first_viewed_at <= window_bounds.window_end
        and events.event_name = 'Product Viewed'
        and events.event_at >= window_bounds.window_start
        and events.event_at <= window_bounds.window_end
    group by events.customer_id, events.product_id
),

views as (
    select * from settled_views
    union all
    select * from viewed_again
),

events as (
    -- cart and order calls since the window start (any cart, or none)
    select
        customer_id,
        event_name
    from {{ ref('int_events_identified') }}
    where
        customer_id is not null
        and event_name in (
            'Product Added', 'Checkout Started', 'Order Completed'
        )
        and event_at <= {{ as_of_ts() }}
        and event_at >= (select window_bounds.window_start from window_bounds)
),

carted as (
    select distinct customer_id
    from events
),

ordered as (
    select distinct customer_id
    from {{ ref('orders') }}
    where
        customer_id is not null
        and placed_at >= (select window_start from window_bounds)
        and placed_at <= {{ as_of_ts() }}
),

browsers as (
    select views.*
    from views
    where
        views.customer_id not in (select customer_id from carted)
        and views.customer_id not in (select customer_id from ordered)
),

viewed_products as (
    select
        browsers.customer_id,
        browsers.product_id,
        browsers.last_viewed_at,
        products.product_name,
        cast(products.price as decimal(12, 2)) as price,
        products.image_url,
        products.product_url
    from browsers
    left join {{ ref('stg_shop__products') }} as products
        on browsers.product_id = products.product_id
)

select
    customer_id as person_id,
    {{ dbt.dateadd('hour', var('browse_abandon_wait_hours'), 'max(last_viewed_at)') }} as entered_at,
    max(last_viewed_at) as last_viewed_at,
    cast(count(*) as integer) as viewed_product_count,
    {{ json_array_agg([
        ['product_id', 'product_id'],
        ['name', 'product_name'],
        ['price', 'price'],
        ['image_url', 'image_url'],
        ['product_url', 'product_url'],
    ], 'last_viewed_at desc, product_id') }} as viewed_products
from viewed_products
group by customer_id
