with

source as (

    select * from {{ source('esp', 'email_events') }}

),

renamed as (

    select

        ---------- ids
        event_id as email_event_id,
        message_id,
        customer_id,
        campaign_id,

        ---------- strings
        {{ normalize_email('email') }} as email,
        variant,
        event_type,
        bounce_type,
        url,
        provider,

        ---------- timestamps
        cast(occurred_at as timestamp) as occurred_at

    from source

)

select * from renamed
