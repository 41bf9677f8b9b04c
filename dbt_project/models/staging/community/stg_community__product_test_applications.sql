with

source as (

    select * from {{ source('community', 'product_test_applications') }}

),

renamed as (

    select

        ---------- ids
        application_id,
        product_test_id,
        member_id,

        ---------- strings
        status as application_status,

        ---------- timestamps
        cast(applied_at as timestamp) as applied_at,
        cast(decided_at as timestamp) as decided_at

    from source

)

select * from renamed
