with

source as (

    select * from {{ source('community', 'members') }}

),

renamed as (

    select

        ---------- ids
        member_id,
        customer_id,

        ---------- strings
        display_name,
        status as member_status,

        ---------- booleans
        coalesce(status = 'active', false) as is_active,

        ---------- timestamps
        cast(joined_at as timestamp) as joined_at,
        cast(updated_at as timestamp) as updated_at

    from source

)

select * from renamed
