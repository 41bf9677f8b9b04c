with

source as (

    select * from {{ source('community', 'posts') }}

),

renamed as (

    select

        ---------- ids
        post_id,
        member_id,
        product_id,

        ---------- strings
        kind as post_kind,
        title as post_title,
        status as post_status,

        ---------- numerics
        cast(rating as integer) as rating,
        cast(word_count as integer) as word_count,

        ---------- booleans
        coalesce(status = 'published', false) as is_published,

        ---------- timestamps
        cast(created_at as timestamp) as created_at

    from source

)

select * from renamed
