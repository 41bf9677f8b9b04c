with

source as (

    select * from {{ source('community', 'answers') }}

),

renamed as (

    select

        ---------- ids
        answer_id,
        post_id,
        member_id,

        ---------- strings
        status as answer_status,

        ---------- numerics
        cast(word_count as integer) as word_count,

        ---------- booleans
        coalesce(is_accepted, false) as is_accepted,
        coalesce(status = 'published', false) as is_published,

        ---------- timestamps
        cast(created_at as timestamp) as created_at

    from source

)

select * from renamed
