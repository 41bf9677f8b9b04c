{{
    config(
        materialized=('table' if incremental_strategy() == 'append' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key='cart_id',
        on_schema_change='append_new_columns'
    )
}}
-- depends_on: {{ ref('stg_app__identifies') }}
-- depends_on: {{ ref('stg_app__events') }}
-- one row per cart of a known customer: its Product Added and Checkout
-- Started calls (identified: customer_id not null), first and last activity,
-- whether a checkout started and its value, and its last call of any kind
-- (Product Removed too)
{# A table, incremental: an hourly build aggregates again only the carts with
    a call received in the window (events_lookback_hours behind the latest
    received_at summarised) or a call of a browser identified in it
    (reidentified_browsers: int_events_identified gave its calls a customer),
    from all of their calls, so a row always equals a full refresh's (rows
    replaced by cart_id; on Spark, which cannot, a table rebuilt whole, as
    int_events_identified). Carts are summarised whatever as_of: a reader
    building as of an earlier moment takes the calls of the carts whose
    last_event_at is after it from the events. A cart several customers added
    to is the greatest customer_id's. -#}

with

{% if is_incremental() %}
    changed_carts as (

        {{ touched_carts('last_received_at') }}

    ),
{% endif %}

cart_events as (

    select
        customer_id,
        cart_id,
        event_name,
        event_at,
        revenue,
        received_at
    from {{ ref('int_events_identified') }}
    where
        event_name in ('Product Added', 'Product Removed', 'Checkout Started')
        and cart_id is not null
        and customer_id is not null
    {% if is_incremental() %}
        and cart_id in (select cart_id from changed_carts)
    {% endif %}

),

summarized as (

    select
        cart_id,
        max(case when event_name != 'Product Removed' then customer_id end)
            as customer_id,
        min(case when event_name != 'Product Removed' then event_at end)
            as first_activity_at,
        max(case when event_name != 'Product Removed' then event_at end)
            as last_activity_at,
        max(case when event_name = 'Checkout Started' then 1 else 0 end) = 1
            as checkout_started,
        max(case when event_name = 'Checkout Started' then revenue end)
            as checkout_value,
        count(*) as event_count,
        max(event_at) as last_event_at,
        max(received_at) as last_received_at
    from cart_events
    group by cart_id
    -- a cart is added to (or checked out): removals alone make none
    having max(case when event_name != 'Product Removed' then 1 else 0 end) = 1

)

select * from summarized
