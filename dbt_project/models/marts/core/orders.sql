with

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

order_items as (

    select * from {{ ref('stg_shop__order_items') }}

),

products as (

    select * from {{ ref('stg_shop__products') }}

),

order_contents as (

    select
        order_items.order_id,
        sum(order_items.quantity) as item_count,
        max(
            case when products.category = 'food' then 1 else 0 end
        ) as has_food_flag,
        max(
            case when products.category = 'non-food' then 1 else 0 end
        ) as has_non_food_flag
    from order_items
    left join products
        on order_items.product_id = products.product_id
    group by order_items.order_id

),

joined as (

    select
        orders.order_id,
        orders.customer_id,
        orders.cart_id,
        orders.placed_at,
        orders.status,
        orders.is_completed,
        orders.is_cancelled,
        orders.currency,
        orders.subtotal,
        orders.discount,
        orders.shipping,
        orders.total,
        orders.coupon_code,
        orders.updated_at,
        coalesce(order_contents.item_count, 0) as item_count,
        coalesce(order_contents.has_food_flag, 0) = 1 as has_food,
        coalesce(order_contents.has_non_food_flag, 0) = 1 as has_non_food
    from orders
    left join order_contents
        on orders.order_id = order_contents.order_id

),

completed_ranks as (

    select
        order_id,
        row_number() over (
            partition by customer_id
            order by placed_at, order_id
        ) as completed_order_number
    from joined
    where is_completed and customer_id is not null

),

final as (

    select
        joined.*,
        completed_ranks.completed_order_number
    from joined
    left join completed_ranks
        on joined.order_id = completed_ranks.order_id

)

select * from final
