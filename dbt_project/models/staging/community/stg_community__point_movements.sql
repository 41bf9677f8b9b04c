with

source as (

    select * from {{ source('community', 'point_movements') }}

),

renamed as (

    select

        ---------- ids
        movement_id,
        member_id,
        reference_id,

        ---------- strings
        reason as points_reason,

        ---------- numerics
        cast(points as integer) as points,

        ---------- timestamps
        cast(occurred_at as timestamp) as occurred_at

    from source

)

select * from renamed
