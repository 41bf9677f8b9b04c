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
-- one row per session: a browser's calls (browser_id: anonymous_id, else the
-- user_id of a server-side call) until session_inactivity_minutes pass without
-- one; its customer, start and end, counts of calls, page and product views
-- and carts, and the first call's utm source, medium, campaign and device
{# A table, incremental: an hourly build sessionises again the browsers with
    a call received in the window (events_lookback_hours behind the latest
    received_at sessionised), from the start of the session holding their
    earliest such call (a late call may join it, or the session after it, or
    join the two), or from that call when it is older than every session of
    the browser; the sessions before are kept as they were. Browsers
    identified in the window (reidentified_browsers: their calls may now
    belong to a customer) are sessionised again whole. Rows replaced by
    browser_id, the earlier sessions written back as they were, so the result
    always equals a full refresh's (on Spark, which cannot, a table rebuilt
    whole). customer_id: the greatest customer among the session's calls. -#}

with

{% if is_incremental() %}
    new_calls as (

        select
            {{ browser_id() }} as browser_id,
            min(event_at) as earliest_new_at
        from {{ ref('int_events_identified') }}
        where
            {{ incremental_window(
                'received_at', var('events_lookback_hours'), cursor='last_received_at'
            ) }}
        group by {{ browser_id() }}

    ),

    resessionised_from as (

        -- the start of the last session starting at or before the earliest
        -- new call: sessions before it end more than the gap before it
        select
            new_calls.browser_id,
            coalesce(
                max(sessions.started_at), min(new_calls.earliest_new_at)
            ) as recompute_from
        from new_calls
        left join {{ this }} as sessions
            on
                new_calls.browser_id = sessions.browser_id
                and sessions.started_at <= new_calls.earliest_new_at
        group by new_calls.browser_id

        union all

        select
            anonymous_id as browser_id,
            cast('1900-01-01' as timestamp) as recompute_from
        from ({{ reidentified_browsers('last_received_at') }}) as identified

    ),

    recompute as (

        select
            browser_id,
            min(recompute_from) as recompute_from
        from resessionised_from
        group by browser_id

    ),

    kept as (

        select sessions.*
        from {{ this }} as sessions
        inner join recompute
            on
                sessions.browser_id = recompute.browser_id
                and sessions.started_at < recompute.recompute_from

    ),
{% endif %}

calls as (

    select
        {{ browser_id('events.anonymous_id', 'events.user_id') }} as browser_id,
        events.event_id,
        events.customer_id,
        events.event_name,
        events.event_at,
        events.cart_id,
        events.utm_source,
        events.utm_medium,
        events.utm_campaign,
        events.device_type,
        events.received_at
    from {{ ref('int_events_identified') }} as events
    {% if is_incremental() %}
        inner join recompute
            on
                {{ browser_id('events.anonymous_id', 'events.user_id') }}
                = recompute.browser_id
                and events.event_at >= recompute.recompute_from
    {% endif %}
    where events.event_at is not null

),

previous as (

    select
        *,
        lag(event_at) over (
            partition by browser_id order by event_at, event_id
        ) as previous_event_at
    from calls

),

gaps as (

    -- coalesce: Spark's dateadd asserts a non-null timestamp
    select
        *,
        case
            when previous_event_at is null then 1
            when
                event_at > {{ dbt.dateadd(
                    'minute',
                    var('session_inactivity_minutes'),
                    'coalesce(previous_event_at, event_at)'
                ) }}
                then 1
            else 0
        end as starts_session
    from previous

),

numbered as (

    select
        *,
        sum(starts_session) over (
            partition by browser_id
            order by event_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps

),

sessions as (

    select
        browser_id,
        max(customer_id) as customer_id,
        min(event_at) as started_at,
        max(event_at) as ended_at,
        count(*) as event_count,
        sum(case when event_name = 'Page Viewed' then 1 else 0 end)
            as page_view_count,
        sum(case when event_name = 'Product Viewed' then 1 else 0 end)
            as product_view_count,
        count(distinct cart_id) as cart_count,
        -- the call that starts a session is its first (by event_at, event_id):
        -- no third window to rank the calls of each session
        max(case when starts_session = 1 then utm_source end) as utm_source,
        max(case when starts_session = 1 then utm_medium end) as utm_medium,
        max(case when starts_session = 1 then utm_campaign end) as utm_campaign,
        max(case when starts_session = 1 then device_type end) as device_type,
        max(received_at) as last_received_at
    from numbered
    group by browser_id, session_number

),

sessionized as (

    select
        {{ dbt.concat([
            'browser_id', "'@'", 'cast(started_at as ' ~ dbt.type_string() ~ ')'
        ]) }} as session_id,
        browser_id,
        customer_id,
        started_at,
        ended_at,
        cast(event_count as integer) as event_count,
        cast(page_view_count as integer) as page_view_count,
        cast(product_view_count as integer) as product_view_count,
        cast(cart_count as integer) as cart_count,
        utm_source,
        utm_medium,
        utm_campaign,
        device_type,
        last_received_at
    from sessions

)

select * from sessionized
{% if is_incremental() %}
    union all
    select
        session_id,
        browser_id,
        customer_id,
        started_at,
        ended_at,
        event_count,
        page_view_count,
        product_view_count,
        cart_count,
        utm_source,
        utm_medium,
        utm_campaign,
        device_type,
        last_received_at
    from kept
{% endif %}
