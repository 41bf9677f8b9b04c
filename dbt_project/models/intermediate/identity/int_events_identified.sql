{{
    config(
        materialized=('table' if incremental_strategy() == 'append' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key='event_id',
        on_schema_change='append_new_columns'
    )
}}
-- depends_on: {{ ref('stg_app__identifies') }}
-- every track call, with the customer it belongs to: the user_id sent with
-- the call, else the customer its browser was first identified as
{# A table, incremental: an hourly build takes the calls received since the
    last one (as stg_app__events) and, again, every call of a browser that
    was identified in that window (an identify call, or a call with user_id):
    its earlier anonymous calls may now belong to a customer (rows replaced:
    on Spark's plain parquet tables, which cannot, a table rebuilt whole). Identify calls
    carry no load time: an identify older than events_lookback_hours behind
    the cursor waits for the next --full-refresh. -#}

with

{% if is_incremental() %}
    identified_again as (

        {{ reidentified_browsers('received_at') }}

    ),
{% endif %}

events as (

    select * from {{ ref('stg_app__events') }}
    {% if is_incremental() %}
        where {{ incremental_window('received_at', var('events_lookback_hours')) }}
        -- the earlier calls of browsers identified again: a second select, not
        -- `or anonymous_id in (...)`, which kept the window's filter out of the
        -- scan (every column of every call read each hour)
        union all
        select events.*
        from {{ ref('stg_app__events') }} as events
        inner join identified_again
            on events.anonymous_id = identified_again.anonymous_id
        where not {{ incremental_window(
            'events.received_at', var('events_lookback_hours'), cursor='received_at'
        ) }}
    {% endif %}

),

identities as (

    select * from {{ ref('int_identities_stitched') }}

),

identified as (

    select
        events.*,
        coalesce(events.user_id, identities.customer_id) as customer_id,
        case
            when events.user_id is not null then 'user_id'
            when identities.customer_id is not null then 'stitched'
            else 'anonymous'
        end as identified_by
    from events
    left join identities
        on events.anonymous_id = identities.anonymous_id

)

select * from identified
