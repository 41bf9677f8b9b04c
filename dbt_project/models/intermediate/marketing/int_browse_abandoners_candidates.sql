-- Known people who viewed products between browse_abandon_window_hours and
-- browse_abandon_wait_hours before as_of (both edges included) and, since the
-- start of that window, added nothing to a cart, started no checkout and placed
-- no order. The same-day suppression by a cart reminder is a contact-policy
-- rule (audience_policies.suppressed_by). One row per person, with the viewed
-- products.

with

window_bounds as (
    select
        {{ dbt.dateadd('hour', -1 * var('browse_abandon_window_hours'), as_of_ts()) }} as window_start,
        {{ dbt.dateadd('hour', -1 * var('browse_abandon_wait_hours'), as_of_ts()) }} as window_end
),

events as (
    select
        customer_id,
        event_name,
        event_at,
        product_id
    from {{ ref('int_events_identified') }}
    where
        customer_id is not null
        and event_at <= {{ as_of_ts() }}
        and event_at >= (select window_start from window_bounds)
),

views as (
    select
        customer_id,
        product_id,
        max(event_at) as last_viewed_at,
        count(*) as view_count
    from events
    where
        event_name = 'Product Viewed'
        and product_id is not null
        and event_at <= (select window_end from window_bounds)
    group by customer_id, product_id
),

carted as (
    select distinct customer_id
    from events
    where event_name in ('Product Added', 'Checkout Started', 'Order Completed')
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
        browsers.view_count,
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
