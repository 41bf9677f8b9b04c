with

source as (

    select * from {{ source('shop', 'coupons') }}

),

renamed as (

    select

        ---------- ids
        coupon_code,
        customer_id,
        campaign_id,
        order_id,

        ---------- strings
        value_type,

        ---------- numerics
        cast(value as decimal(12, 2)) as coupon_value,

        ---------- timestamps
        cast(issued_at as timestamp) as issued_at,
        cast(expires_at as timestamp) as expires_at,
        cast(redeemed_at as timestamp) as redeemed_at

    from source

)

select * from renamed
