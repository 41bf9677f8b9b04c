{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='email_event_id',
        on_schema_change='append_new_columns'
    )
}}
{#- A table, incremental: email events carry no load time, so an incremental
    build takes again every event of the last email_events_lookback_hours
    before the latest one loaded, and every event not loaded yet whatever its
    time (an anti-join on the key): a consent pull lands unsubscribes and
    bounces days after they happened, and the contact policy must see them at
    the next build, not at the next full refresh. -#}

with

source as (

    select * from {{ source('esp', 'email_events') }} as landed
    {% if is_incremental() %}
        where
            {{ incremental_window(
                'occurred_at', var('email_events_lookback_hours'),
                key=['event_id', 'email_event_id']
            ) }}
            or not exists (
                select 1 from {{ this }} as loaded
                where loaded.email_event_id = landed.event_id
            )
    {% endif %}

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
