{{
    config(
        materialized=('table' if incremental_strategy() == 'append' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key='browser_id',
        on_schema_change='append_new_columns'
    )
}}
-- depends_on: {{ ref('stg_app__identifies') }}
-- depends_on: {{ ref('stg_app__events') }}
-- one row per browser, customer and product a known customer viewed (Product
-- Viewed calls with customer_id): how often, first and last view
{# A table, incremental: an hourly build takes again every view of the
    browsers with a view received in the window (events_lookback_hours behind
    the latest received_at summarised) or identified in it
    (reidentified_browsers: their views may now belong to a customer); rows
    replaced by browser_id, so a row always equals a full refresh's (on
    Spark, which cannot, a table rebuilt whole). Per browser, not per customer
    only: a browser identified again moves all its rows at once. Views are
    summarised whatever as_of (int_browse_abandoners_candidates reads the
    events of a pair viewed again after its window). -#}

with

{% if is_incremental() %}
    changed_browsers as (

        select {{ browser_id() }} as browser_id
        from {{ ref('int_events_identified') }}
        where
            event_name = 'Product Viewed'
            and {{ incremental_window(
                'received_at', var('events_lookback_hours'), cursor='last_received_at'
            ) }}
        union
        {{ reidentified_browsers('last_received_at') }}

    ),
{% endif %}

views as (

    select
        {{ browser_id() }} as browser_id,
        customer_id,
        product_id,
        event_at,
        received_at
    from {{ ref('int_events_identified') }}
    where
        event_name = 'Product Viewed'
        and customer_id is not null
        and product_id is not null
    {% if is_incremental() %}
        and {{ browser_id() }} in (select browser_id from changed_browsers)
    {% endif %}

),

summarized as (

    select
        browser_id,
        customer_id,
        product_id,
        count(*) as view_count,
        min(event_at) as first_viewed_at,
        max(event_at) as last_viewed_at,
        max(received_at) as last_received_at
    from views
    group by browser_id, customer_id, product_id

)

select * from summarized
