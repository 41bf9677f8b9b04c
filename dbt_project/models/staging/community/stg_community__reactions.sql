with

source as (

    select * from {{ source('community', 'reactions') }}

),

renamed as (

    select

        ---------- ids
        reaction_id,
        member_id,
        target_id,

        ---------- strings
        target_type,
        reaction,

        ---------- booleans
        coalesce(reaction = 'helpful', false) as is_helpful,

        ---------- timestamps
        cast(created_at as timestamp) as created_at

    from source

)

select * from renamed
