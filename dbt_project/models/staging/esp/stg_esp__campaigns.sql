with

source as (

    select * from {{ source('esp', 'campaigns') }}

),

renamed as (

    select

        ---------- ids
        campaign_id,

        ---------- strings
        name as campaign_name,
        kind as campaign_kind,
        program,
        ab_test,

        ---------- timestamps
        cast(started_at as timestamp) as started_at

    from source

)

select * from renamed
