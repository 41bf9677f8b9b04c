-- Engaged non-buyers: active members with a shop account who did at least
-- engaged_non_buyers_min_actions things in the community (posts, answers,
-- reactions, test applications) in the engaged_non_buyers_activity_days
-- before as_of, and placed no completed order in the
-- engaged_non_buyers_no_purchase_days before as_of (or never). entered_at =
-- the later of their first action in the activity window and the day their
-- last order fell out of the no-purchase window.

with

members as (
    select
        member_id,
        customer_id
    from {{ ref('stg_community__members') }}
    where
        is_active
        and customer_id is not null
        and joined_at <= {{ as_of_ts() }}
),

recent_actions as (
    select
        member_id,
        count(*) as action_count,
        min(acted_at) as first_action_at,
        max(acted_at) as last_active_at
    from {{ ref('int_community_actions_unioned') }}
    where
        acted_at
        > {{ dbt.dateadd('day', -1 * var('engaged_non_buyers_activity_days'), as_of_ts()) }}
    group by member_id
),

last_orders as (
    select
        customer_id,
        max(placed_at) as last_order_at
    from {{ ref('orders') }}
    where
        is_completed
        and customer_id is not null
        and placed_at <= {{ as_of_ts() }}
    group by customer_id
),

qualified as (
    select
        members.customer_id,
        members.member_id,
        recent_actions.action_count,
        recent_actions.first_action_at,
        recent_actions.last_active_at,
        last_orders.last_order_at,
        {{ dbt.dateadd('day', var('engaged_non_buyers_no_purchase_days'), 'last_orders.last_order_at') }}
            as lapsed_at,
        row_number() over (
            partition by members.customer_id
            order by recent_actions.action_count desc, members.member_id asc
        ) as person_rank
    from members
    inner join recent_actions
        on members.member_id = recent_actions.member_id
    left join last_orders
        on members.customer_id = last_orders.customer_id
    where
        recent_actions.action_count
        >= {{ var('engaged_non_buyers_min_actions') }}
        and (
            last_orders.last_order_at is null
            or last_orders.last_order_at
            <= {{ dbt.dateadd('day', -1 * var('engaged_non_buyers_no_purchase_days'), as_of_ts()) }}
        )
)

select
    customer_id as person_id,
    case
        when
            lapsed_at is not null and lapsed_at > first_action_at
            then lapsed_at
        else first_action_at
    end as entered_at,
    member_id,
    cast(action_count as integer) as community_actions,
    last_active_at,
    last_order_at,
    cast(
        {{ dbt.datediff('cast(last_order_at as date)', as_of_date(), 'day') }} as integer
    ) as days_since_last_order
from qualified
where person_rank = 1
