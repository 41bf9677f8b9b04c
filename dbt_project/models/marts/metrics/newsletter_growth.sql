{#- The subscriber base day by day: new confirmed subscribers, subscriptions
    ended (unsubscribed, bounced, spam complaint), the base at the end of the
    day and how many people in it have bought at least once (the share of
    subscribers who purchase). Days without any change are left out. -#}

with

subscriptions as (
    select
        *,
        case
            when
                first_order_at is not null
                and (ended_at is null or first_order_at < ended_at)
                then case
                        when first_order_at > confirmed_at then first_order_at
                        else confirmed_at
                    end
        end as purchaser_from
    from {{ ref('int_newsletter_subscriptions_reconstructed') }}
    where confirmed_at <= {{ as_of_ts() }}
),

changes as (
    select
        cast(confirmed_at as date) as day,  -- noqa: RF04
        1 as joined,
        0 as ended,
        0 as purchaser_change
    from subscriptions
    union all
    select
        cast(ended_at as date) as day,  -- noqa: RF04
        0 as joined,
        1 as ended,
        0 as purchaser_change
    from subscriptions
    where ended_at <= {{ as_of_ts() }}
    union all
    select
        cast(purchaser_from as date) as day,  -- noqa: RF04
        0 as joined,
        0 as ended,
        1 as purchaser_change
    from subscriptions
    where purchaser_from <= {{ as_of_ts() }}
    union all
    select
        cast(ended_at as date) as day,  -- noqa: RF04
        0 as joined,
        0 as ended,
        -1 as purchaser_change
    from subscriptions
    where purchaser_from is not null and ended_at <= {{ as_of_ts() }}
),

daily as (
    select
        day,
        sum(joined) as new_subscribers,
        sum(ended) as ended_subscriptions,
        sum(purchaser_change) as purchaser_change
    from changes
    group by day
),

cumulated as (
    select
        day,
        new_subscribers,
        ended_subscriptions,
        new_subscribers - ended_subscriptions as net_change,
        sum(new_subscribers - ended_subscriptions) over (
            order by day rows between unbounded preceding and current row
        ) as subscriber_base,
        sum(purchaser_change) over (
            order by day rows between unbounded preceding and current row
        ) as subscribers_who_purchased
    from daily
)

select
    day,
    new_subscribers,
    ended_subscriptions,
    net_change,
    subscriber_base,
    subscribers_who_purchased,
    cast(
        1.0 * subscribers_who_purchased / nullif(subscriber_base, 0)
        as decimal(10, 6)
    ) as purchaser_share
from cumulated
