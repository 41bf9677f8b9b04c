{{ config(materialized='table') }}
{#- A table, not a view: it ranks every identification in the event stream,
    and as a view each reader (int_events_identified, four data tests) ran that
    again: at 1M customers its tests alone took 5 minutes of a full build. -#}
-- one row per anonymous_id that was ever tied to a customer: the customer of
-- its first identification (an identify call, or a track call with user_id)

with

identifies as (

    select
        anonymous_id,
        customer_id,
        identified_at,
        'identify' as identified_by,
        1 as source_priority
    from {{ ref('stg_app__identifies') }}
    where anonymous_id is not null and customer_id is not null

),

events_with_user as (

    select
        anonymous_id,
        user_id as customer_id,
        event_at as identified_at,
        'event' as identified_by,
        2 as source_priority
    from {{ ref('stg_app__events') }}
    where anonymous_id is not null and user_id is not null

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
        count(distinct customer_id) as customer_candidates
    from identifications
    group by anonymous_id

),

stitched as (

    select
        ranked.anonymous_id,
        ranked.customer_id,
        ranked.identified_at as first_identified_at,
        ranked.identified_by,
        candidates.customer_candidates > 1 as is_shared_device
    from ranked
    inner join candidates
        on ranked.anonymous_id = candidates.anonymous_id
    where ranked.identification_rank = 1

)

select * from stitched
