-- Customers who reached a milestone in the last milestone_window_days (elapsed
-- time): their Nth completed order (N in var milestone_order_counts) or their
-- completed-order spend crossing a threshold (var milestone_spend_thresholds).
-- Cancelled, refunded and pending orders never count. A milestone is reached by
-- exactly one order, so each happens once per person, ever; the policy
-- (once_ever) stops a second send of the same entry. One row per person: the
-- latest milestone (on a tie: spend before count, then the larger value).
-- entered_at = the order that reached it.

with

completed as (
    select
        customer_id,
        order_id,
        placed_at,
        total,
        row_number() over (partition by customer_id order by placed_at, order_id) as order_number,
        sum(total) over (
            partition by customer_id
            order by placed_at, order_id
            rows between unbounded preceding and current row
        ) as spend_to_date
    from {{ ref('orders') }}
    where
        is_completed
        and customer_id is not null
        and placed_at <= {{ as_of_ts() }}
),

with_previous as (
    select
        completed.*,
        completed.spend_to_date - completed.total as spend_before
    from completed
),

count_thresholds as (
    {% for n in var('milestone_order_counts') %}
        select {{ n }} as threshold
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

spend_thresholds as (
    {% for amount in var('milestone_spend_thresholds') %}
        select cast({{ amount }} as decimal(12, 2)) as threshold
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

milestones as (
    select
        with_previous.customer_id,
        with_previous.order_id,
        with_previous.placed_at,
        'order_count' as milestone_type,
        cast(count_thresholds.threshold as decimal(12, 2)) as milestone_value,
        with_previous.order_number,
        with_previous.spend_to_date
    from with_previous
    inner join count_thresholds
        on with_previous.order_number = count_thresholds.threshold

    union all

    select
        with_previous.customer_id,
        with_previous.order_id,
        with_previous.placed_at,
        'total_spend' as milestone_type,
        spend_thresholds.threshold as milestone_value,
        with_previous.order_number,
        with_previous.spend_to_date
    from with_previous
    inner join spend_thresholds
        on
            with_previous.spend_before < spend_thresholds.threshold
            and with_previous.spend_to_date >= spend_thresholds.threshold
),

recent as (
    select
        milestones.*,
        row_number() over (
            partition by milestones.customer_id
            order by
                milestones.placed_at desc,
                milestones.milestone_type desc,
                milestones.milestone_value desc
        ) as milestone_rank
    from milestones
    where
        milestones.placed_at > {{ dbt.dateadd(
            'day', -1 * var('milestone_window_days'), as_of_ts()
        ) }}
)

select
    customer_id as person_id,
    placed_at as entered_at,
    milestone_type || '_' || cast(cast(milestone_value as integer) as {{ dbt.type_string() }}) as milestone,
    milestone_type,
    cast(milestone_value as decimal(12, 2)) as milestone_value,
    order_id as milestone_order_id,
    cast(order_number as integer) as order_count,
    cast(spend_to_date as decimal(12, 2)) as total_spend
from recent
where milestone_rank = 1
