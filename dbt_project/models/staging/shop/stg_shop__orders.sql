with

source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select

        ---------- ids
        order_id,
        customer_id,
        cart_id,
        coupon_code,

        ---------- strings
        status,
        upper(currency) as currency,

        ---------- numerics
        cast(subtotal as decimal(12, 2)) as subtotal,
        cast(coalesce(discount, 0) as decimal(12, 2)) as discount,
        cast(coalesce(shipping, 0) as decimal(12, 2)) as shipping,
        cast(total as decimal(12, 2)) as total,

        ---------- booleans
        coalesce(status in ('paid', 'shipped'), false) as is_completed,
        coalesce(status in ('cancelled', 'refunded'), false) as is_cancelled,

        ---------- timestamps
        cast(placed_at as timestamp) as placed_at,
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from renamed
