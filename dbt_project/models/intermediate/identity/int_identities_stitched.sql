{{
    config(
        materialized=('table' if incremental_strategy() == 'append' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key='anonymous_id',
        on_schema_change='append_new_columns'
    )
}}
{#- A table, not a view: it ranks every identification in the event stream,
    and as a view each reader (int_events_identified, four data tests) ran that
    again: at 1M customers its tests alone took 5 minutes of a full build.
    Incremental: an hourly build ranks again only the browsers identified in
    the window (reidentified_browsers: an identify call, or a call with user_id
    received since the cursor, last_received_at, less events_lookback_hours),
    from every identification of theirs, so each row equals a full refresh's;
    rows replaced by anonymous_id (on Spark, which cannot, a table rebuilt
    whole). An identify older than the lookback behind the cursor waits for the
    next --full-refresh, as in int_events_identified. -#}
-- one row per anonymous_id that was ever tied to a customer: the customer of
-- its first identification (an identify call, or a track call with user_id)

with

{% if is_incremental() %}
    identified_again as (

        {{ reidentified_browsers('last_received_at') }}

    ),
{% endif %}

identifies as (

    select
        anonymous_id,
        customer_id,
        identified_at,
        'identify' as identified_by,
        1 as source_priority,
        cast(null as timestamp) as received_at
    from {{ ref('stg_app__identifies') }}
    where
        anonymous_id is not null and customer_id is not null
        {% if is_incremental() %}
            and anonymous_id in (select anonymous_id from identified_again)
        {% endif %}

),

events_with_user as (

    select
        anonymous_id,
        user_id as customer_id,
        event_at as identified_at,
        'event' as identified_by,
        2 as source_priority,
        received_at
    from {{ ref('stg_app__events') }}
    where
        anonymous_id is not null and user_id is not null
        {% if is_incremental() %}
            and anonymous_id in (select anonymous_id from identified_again)
        {% endif %}

),

identifications as (

    select * from identifies
    union all
    select * from events_with_user

),

ranked as (

    select
        *,
        row_number() over (
            partition by anonymous_id
            order by identified_at, source_priority, customer_id
        ) as identification_rank
    from identifications

),

candidates as (

    select
        anonymous_id,
        count(distinct customer_id) as customer_candidates,
        max(received_at) as last_received_at
    from identifications
    group by anonymous_id

),

stitched as (

    select
        ranked.anonymous_id,
        ranked.customer_id,
        ranked.identified_at as first_identified_at,
        ranked.identified_by,
        candidates.customer_candidates > 1 as is_shared_device,
        candidates.last_received_at
    from ranked
    inner join candidates
        on ranked.anonymous_id = candidates.anonymous_id
    where ranked.identification_rank = 1

)

select * from stitched
