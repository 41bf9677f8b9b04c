with

source as (

    select * from {{ source('shop', 'products') }}

),

renamed as (

    select

        ---------- ids
        product_id,
        sku,

        ---------- strings
        name as product_name,
        category,
        subcategory,
        image_url,
        product_url,

        ---------- numerics
        cast(price as decimal(12, 2)) as price,
        cast(replenish_cycle_days as integer) as replenish_cycle_days,

        ---------- booleans
        coalesce(in_stock, false) as in_stock,
        coalesce(replenishable, false) as replenishable,

        ---------- timestamps
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from renamed
