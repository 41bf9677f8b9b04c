-- Customers whose latest completed purchase of a replenishable product is at
-- least its replenish_cycle_days + replenishment_grace_days old (so they have
-- not bought it again since), at most replenishment_window_days overdue, and
-- the product is in stock now. One row per person: the product that fell due
-- first, plus every due product as JSON. entered_at = when that product fell
-- due.

with

purchases as (
    select
        orders.customer_id,
        items.product_id,
        max(orders.placed_at) as last_purchased_at
    from {{ ref('orders') }} as orders
    inner join {{ ref('stg_shop__order_items') }} as items
        on orders.order_id = items.order_id
    where
        orders.is_completed
        and orders.customer_id is not null
        and orders.placed_at <= {{ as_of_ts() }}
    group by orders.customer_id, items.product_id
),

products as (
    select
        product_id,
        product_name,
        price,
        image_url,
        product_url,
        replenish_cycle_days
    from {{ ref('stg_shop__products') }}
    where
        replenishable
        and in_stock
        and replenish_cycle_days is not null
),

due as (
    select
        purchases.customer_id,
        purchases.product_id,
        purchases.last_purchased_at,
        products.product_name,
        cast(products.price as decimal(12, 2)) as price,
        products.image_url,
        products.product_url,
        {{ dbt.dateadd(
            'day',
            'products.replenish_cycle_days + ' ~ var('replenishment_grace_days'),
            'purchases.last_purchased_at'
        ) }} as due_at
    from purchases
    inner join products
        on purchases.product_id = products.product_id
),

in_window as (
    select
        due.*,
        row_number() over (
            partition by due.customer_id
            order by due.due_at, due.product_id
        ) as due_rank
    from due
    where
        due.due_at <= {{ as_of_ts() }}
        and due.due_at > {{ dbt.dateadd('day', -1 * var('replenishment_window_days'), as_of_ts()) }}
),

all_due as (
    select
        customer_id,
        cast(count(*) as integer) as due_product_count,
        {{ json_array_agg([
            ['product_id', 'product_id'],
            ['name', 'product_name'],
            ['price', 'price'],
            ['image_url', 'image_url'],
            ['product_url', 'product_url'],
        ], 'due_at, product_id') }} as due_products
    from in_window
    group by customer_id
)

select
    in_window.customer_id as person_id,
    in_window.due_at as entered_at,
    in_window.product_id,
    in_window.product_name,
    in_window.price,
    in_window.image_url,
    in_window.product_url,
    in_window.last_purchased_at,
    all_due.due_product_count,
    all_due.due_products
from in_window
inner join all_due
    on in_window.customer_id = all_due.customer_id
where in_window.due_rank = 1
