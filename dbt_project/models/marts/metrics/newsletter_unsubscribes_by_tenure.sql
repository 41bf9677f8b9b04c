{#- Subscriptions that ended by unsubscribing, by tenure: whole days between
    the double opt-in confirmation and the unsubscribe, in buckets. The share
    is of all unsubscribes. -#}

with

buckets as (
    select 1 as bucket_order, '0-7 days' as tenure_bucket, 0 as min_days, 7 as max_days
    union all select 2, '8-30 days', 8, 30
    union all select 3, '31-90 days', 31, 90
    union all select 4, '91-180 days', 91, 180
    union all select 5, '181-365 days', 181, 365
    union all select 6, 'over a year', 366, 1000000
),

unsubscribes as (
    select
        {{ dbt.datediff('confirmed_at', 'ended_at', 'day') }} as tenure_days
    from {{ ref('int_newsletter_subscriptions_reconstructed') }}
    where end_reason = 'unsubscribed' and ended_at <= {{ as_of_ts() }}
),

counted as (
    select
        buckets.bucket_order,
        buckets.tenure_bucket,
        buckets.min_days,
        buckets.max_days,
        count(unsubscribes.tenure_days) as unsubscribes,
        avg(unsubscribes.tenure_days) as average_tenure_days
    from buckets
    left join unsubscribes
        on unsubscribes.tenure_days between buckets.min_days and buckets.max_days
    group by buckets.bucket_order, buckets.tenure_bucket, buckets.min_days, buckets.max_days
)

select
    bucket_order,
    tenure_bucket,
    min_days,
    max_days,
    unsubscribes,
    cast(average_tenure_days as decimal(10, 2)) as average_tenure_days,
    cast(
        1.0 * unsubscribes / nullif(sum(unsubscribes) over (), 0)
        as decimal(10, 6)
    ) as share_of_unsubscribes
from counted
