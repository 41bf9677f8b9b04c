with

source as (

    select * from {{ source('community', 'product_tests') }}

),

renamed as (

    select

        ---------- ids
        product_test_id,
        product_id,

        ---------- strings
        title as product_test_title,

        ---------- numerics
        cast(places as integer) as places,

        ---------- timestamps
        cast(applications_open_at as timestamp) as applications_open_at,
        cast(applications_close_at as timestamp) as applications_close_at

    from source

)

select * from renamed
