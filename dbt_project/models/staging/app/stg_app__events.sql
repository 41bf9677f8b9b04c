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

{%- set property_keys = [
    'product_id',
    'cart_id',
    'order_id',
    'popup_id',
    'conversation_id',
    'sku',
    'name',
    'category',
    'coupon',
    'email',
    'source',
    'topic',
    'products',
    'price',
    'quantity',
    'revenue',
    'total',
    'value',
    'messages',
    'resolved'
] -%}
{%- set context_keys = [
    'page.path',
    'campaign.source',
    'campaign.medium',
    'campaign.name',
    'campaign.content',
    'device.type'
] -%}

with

source as (

    select * from {{ source('app', 'events') }}
    {% if is_incremental() %}
        where {{ incremental_window('received_at', var('events_lookback_hours'), key=['message_id', 'event_id']) }}
    {% endif %}

),

parsed as (

    {#- each JSON column parsed once, not once a key (json_texts) #}
    select
        *,
        {{ json_texts('properties', property_keys) }} as property_values,
        {{ json_texts('context', context_keys) }} as context_values
    from source

),

renamed as (

    select

        ---------- ids
        message_id as event_id,
        anonymous_id,
        user_id,
        {{ json_text_in('property_values', 'properties', property_keys, 'product_id') }} as product_id,
        {{ json_text_in('property_values', 'properties', property_keys, 'cart_id') }} as cart_id,
        {{ json_text_in('property_values', 'properties', property_keys, 'order_id') }} as order_id,
        {{ json_text_in('property_values', 'properties', property_keys, 'popup_id') }} as popup_id,
        {{ json_text_in('property_values', 'properties', property_keys, 'conversation_id') }} as conversation_id,

        ---------- strings
        event as event_name,
        {{ json_text_in('property_values', 'properties', property_keys, 'sku') }} as sku,
        {{ json_text_in('property_values', 'properties', property_keys, 'name') }} as product_name,
        {{ json_text_in('property_values', 'properties', property_keys, 'category') }} as category,
        {{ json_text_in('property_values', 'properties', property_keys, 'coupon') }} as coupon_code,
        {{ normalize_email(json_text_in('property_values', 'properties', property_keys, 'email')) }} as signup_email,
        {{ json_text_in('property_values', 'properties', property_keys, 'source') }} as signup_source,
        {{ json_text_in('property_values', 'properties', property_keys, 'topic') }} as chatbot_topic,
        {{ json_text_in('property_values', 'properties', property_keys, 'products') }} as products_json,
        {{ json_text_in('context_values', 'context', context_keys, 'page.path') }} as page_path,
        {{ json_text_in('context_values', 'context', context_keys, 'campaign.source') }} as utm_source,
        {{ json_text_in('context_values', 'context', context_keys, 'campaign.medium') }} as utm_medium,
        {{ json_text_in('context_values', 'context', context_keys, 'campaign.name') }} as utm_campaign,
        {{ json_text_in('context_values', 'context', context_keys, 'campaign.content') }} as utm_content,
        {{ json_text_in('context_values', 'context', context_keys, 'device.type') }} as device_type,

        ---------- numerics
        cast(
            {{ json_text_in('property_values', 'properties', property_keys, 'price') }} as decimal(12, 2)
        ) as price,
        cast({{ json_text_in('property_values', 'properties', property_keys, 'quantity') }} as integer) as quantity,
        cast(
            case event
                when 'Order Completed'
                    then
                        coalesce(
                            {{ json_text_in('property_values', 'properties', property_keys, 'revenue') }},
                            {{ json_text_in('property_values', 'properties', property_keys, 'total') }}
                        )
                when 'Checkout Started'
                    then {{ json_text_in('property_values', 'properties', property_keys, 'value') }}
            end as decimal(12, 2)
        ) as revenue,
        cast(
            {{ json_text_in('property_values', 'properties', property_keys, 'messages') }} as integer
        ) as chatbot_messages,

        ---------- booleans
        cast(
            {{ json_text_in('property_values', 'properties', property_keys, 'resolved') }} as boolean
        ) as chatbot_resolved,

        ---------- timestamps
        cast({{ adapter.quote("timestamp") }} as timestamp) as event_at,  -- noqa: RF06
        cast(received_at as timestamp) as received_at

    from parsed

)

select * from renamed
