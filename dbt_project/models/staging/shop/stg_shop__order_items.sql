with

source as (

    select * from {{ source('shop', 'order_items') }}

),

renamed as (

    select

        ---------- ids
        {{ dbt.concat([
            'order_id',
            "'-'",
            dbt.cast('line_number', dbt.type_string()),
        ]) }} as order_item_id,
        order_id,
        product_id,

        ---------- numerics
        cast(line_number as integer) as line_number,
        cast(quantity as integer) as quantity,
        cast(unit_price as decimal(12, 2)) as unit_price,
        cast(quantity * unit_price as decimal(12, 2)) as line_amount

    from source

)

select * from renamed
