{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key='event_id',
        on_schema_change='append_new_columns'
    )
}}
{#- A table, incremental: an hourly build adds the calls received since the
    last one (received_at is the load cursor; var events_lookback_hours takes
    a few hours again for loads that commit out of order). Late events (an old
    timestamp, received now) come in with their load. -#}

with

source as (

    select * from {{ source('app', 'events') }}
    {% if is_incremental() %}
        where {{ incremental_window('received_at', var('events_lookback_hours'), key=['message_id', 'event_id']) }}
    {% endif %}

),

renamed as (

    select

        ---------- ids
        message_id as event_id,
        anonymous_id,
        user_id,
        {{ json_text('properties', 'product_id') }} as product_id,
        {{ json_text('properties', 'cart_id') }} as cart_id,
        {{ json_text('properties', 'order_id') }} as order_id,
        {{ json_text('properties', 'popup_id') }} as popup_id,
        {{ json_text('properties', 'conversation_id') }} as conversation_id,

        ---------- strings
        event as event_name,
        {{ json_text('properties', 'sku') }} as sku,
        {{ json_text('properties', 'name') }} as product_name,
        {{ json_text('properties', 'category') }} as category,
        {{ json_text('properties', 'coupon') }} as coupon_code,
        {{ normalize_email(json_text('properties', 'email')) }} as signup_email,
        {{ json_text('properties', 'source') }} as signup_source,
        {{ json_text('properties', 'topic') }} as chatbot_topic,
        {{ json_text('properties', 'products') }} as products_json,
        {{ json_text('context', 'page.path') }} as page_path,
        {{ json_text('context', 'campaign.source') }} as utm_source,
        {{ json_text('context', 'campaign.medium') }} as utm_medium,
        {{ json_text('context', 'campaign.name') }} as utm_campaign,
        {{ json_text('context', 'campaign.content') }} as utm_content,
        {{ json_text('context', 'device.type') }} as device_type,

        ---------- numerics
        cast(
            {{ json_text('properties', 'price') }} as decimal(12, 2)
        ) as price,
        cast({{ json_text('properties', 'quantity') }} as integer) as quantity,
        cast(
            case event
                when 'Order Completed'
                    then
                        coalesce(
                            {{ json_text('properties', 'revenue') }},
                            {{ json_text('properties', 'total') }}
                        )
                when 'Checkout Started'
                    then {{ json_text('properties', 'value') }}
            end as decimal(12, 2)
        ) as revenue,
        cast(
            {{ json_text('properties', 'messages') }} as integer
        ) as chatbot_messages,

        ---------- booleans
        cast(
            {{ json_text('properties', 'resolved') }} as boolean
        ) as chatbot_resolved,

        ---------- timestamps
        cast({{ adapter.quote("timestamp") }} as timestamp) as event_at,  -- noqa: RF06
        cast(received_at as timestamp) as received_at

    from source

)

select * from renamed
