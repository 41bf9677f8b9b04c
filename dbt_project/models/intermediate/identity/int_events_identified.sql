-- every track call, with the customer it belongs to: the user_id sent with
-- the call, else the customer its browser was first identified as

with

events as (

    select * from {{ ref('stg_app__events') }}

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
