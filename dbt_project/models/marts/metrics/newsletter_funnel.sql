{#- The newsletter funnel by day and source: pop-ups shown (source 'popup'),
    sign-ups submitted (by their signup source), double opt-ins confirmed and,
    for the people confirmed that day, how many bought after signing up and how
    many made their very first purchase after signing up (by as_of). -#}

with

events as (
    select
        event_name,
        event_at,
        signup_email,
        signup_source
    from {{ ref('stg_app__events') }}
    where
        event_name in ('Newsletter Popup Shown', 'Newsletter Signup Submitted')
        and event_at <= {{ as_of_ts() }}
),

shown as (
    select
        cast(event_at as date) as day,  -- noqa: RF04
        'popup' as source,  -- noqa: RF04
        count(*) as popups_shown
    from events
    where event_name = 'Newsletter Popup Shown'
    group by cast(event_at as date)
),

submitted as (
    select
        cast(event_at as date) as day,  -- noqa: RF04
        coalesce(signup_source, 'unknown') as source,  -- noqa: RF04
        count(distinct lower(trim(signup_email))) as signups_submitted
    from events
    where event_name = 'Newsletter Signup Submitted'
    group by cast(event_at as date), coalesce(signup_source, 'unknown')
),

confirmed as (
    select
        cast(confirmed_at as date) as day,  -- noqa: RF04
        source,
        count(*) as signups_confirmed,
        sum(case when first_order_after_signup_at is not null then 1 else 0 end)
            as purchased_after_signup,
        sum(
            case
                when
                    first_order_after_signup_at is not null
                    and first_order_at = first_order_after_signup_at
                    then 1
                else 0
            end
        ) as first_purchases_after_signup
    from {{ ref('int_newsletter_subscriptions_reconstructed') }}
    where confirmed_at <= {{ as_of_ts() }}
    group by cast(confirmed_at as date), source
),

keys as (
    select
        day,
        source
    from shown
    union
    select
        day,
        source
    from submitted
    union
    select
        day,
        source
    from confirmed
)

select
    keys.day,
    keys.source,
    coalesce(shown.popups_shown, 0) as popups_shown,
    coalesce(submitted.signups_submitted, 0) as signups_submitted,
    coalesce(confirmed.signups_confirmed, 0) as signups_confirmed,
    coalesce(confirmed.purchased_after_signup, 0) as purchased_after_signup,
    coalesce(confirmed.first_purchases_after_signup, 0)
        as first_purchases_after_signup,
    cast(
        1.0 * submitted.signups_submitted / nullif(shown.popups_shown, 0)
        as decimal(10, 6)
    ) as signup_rate,
    cast(
        1.0
        * confirmed.signups_confirmed
        / nullif(submitted.signups_submitted, 0)
        as decimal(10, 6)
    ) as confirmation_rate
from keys
left join shown on keys.day = shown.day and keys.source = shown.source
left join submitted
    on keys.day = submitted.day and keys.source = submitted.source
left join confirmed
    on keys.day = confirmed.day and keys.source = confirmed.source
