{#- Subscriptions that ended by unsubscribing, by tenure: whole days between
    the double opt-in confirmation and the unsubscribe, in buckets. The share
    is of all unsubscribes. -#}

{%- set buckets = [
    (1, '0-7 days', 0, 7),
    (2, '8-30 days', 8, 30),
    (3, '31-90 days', 31, 90),
    (4, '91-180 days', 91, 180),
    (5, '181-365 days', 181, 365),
    (6, 'over a year', 366, 1000000),
] %}

with

buckets as (
    {% for bucket_order, label, low, high in buckets %}
        select
            {{ bucket_order }} as bucket_order,
            '{{ label }}' as tenure_bucket,
            {{ low }} as min_days,
            {{ high }} as max_days
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

unsubscribes as (
    select
        {{ dbt.datediff('confirmed_at', 'ended_at', 'day') }}
            as tenure_days
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
        on
            unsubscribes.tenure_days
            between buckets.min_days and buckets.max_days
    group by
        buckets.bucket_order,
        buckets.tenure_bucket,
        buckets.min_days,
        buckets.max_days
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
