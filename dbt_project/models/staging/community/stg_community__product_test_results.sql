with

source as (

    select * from {{ source('community', 'product_test_results') }}

),

renamed as (

    select

        ---------- ids
        result_id,
        application_id,
        product_test_id,
        member_id,

        ---------- numerics
        cast(rating as integer) as rating,
        cast(word_count as integer) as word_count,

        ---------- booleans
        would_recommend,

        ---------- timestamps
        cast(submitted_at as timestamp) as submitted_at

    from source

)

select * from renamed
