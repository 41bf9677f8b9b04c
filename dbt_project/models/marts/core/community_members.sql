{#- One row per community member who had joined by as_of: their shop account,
    tenure, what they contributed and received (all time and over the
    community_activity_window_days before as_of), their activity level, their
    loyalty points (balance = sum of the ledger up to as_of) and whether they
    are an ambassador now (int_community_ambassadors_scored at as_of).
    activity_level, from the actions (posts, answers, reactions given, test
    applications) in the activity window: very_active (at least
    community_very_active_min_actions), active (at least
    community_active_min_actions), occasional (at least one), quiet (none). -#}
{%- set window_start = dbt.dateadd('day', -1 * var('community_activity_window_days'), as_of_ts()) -%}

with

members as (
    select * from {{ ref('stg_community__members') }}
    where joined_at <= {{ as_of_ts() }}
),

contributions as (
    select * from {{ ref('int_community_contributions_unioned') }}
),

actions as (
    select * from {{ ref('int_community_actions_unioned') }}
),

reactions as (
    select * from {{ ref('stg_community__reactions') }}
    where created_at <= {{ as_of_ts() }}
),

points as (
    select
        member_id,
        sum(points) as points_balance,
        sum(case when points > 0 then points else 0 end) as points_earned,
        sum(case when points < 0 then -points else 0 end) as points_spent
    from {{ ref('stg_community__point_movements') }}
    where occurred_at <= {{ as_of_ts() }}
    group by member_id
),

contributed as (
    select
        member_id,
        sum(case when target_type = 'post' then 1 else 0 end) as posts,
        sum(case when contribution_type = 'review' then 1 else 0 end)
            as reviews,
        sum(case when contribution_type = 'answer' then 1 else 0 end)
            as answers,
        avg(cast(rating as {{ type_double() }})) as average_review_rating
    from contributions
    group by member_id
),

received as (
    select
        contributions.member_id,
        count(*) as reactions_received
    from contributions
    inner join reactions
        on
            contributions.target_type = reactions.target_type
            and contributions.contribution_id = reactions.target_id
            and contributions.member_id != reactions.member_id
    group by contributions.member_id
),

acted as (
    select
        member_id,
        sum(case when action_type = 'reaction' then 1 else 0 end)
            as reactions_given,
        sum(
            case when acted_at > {{ window_start }} then 1 else 0 end
        ) as recent_actions,
        max(acted_at) as last_active_at
    from actions
    group by member_id
),

ambassadors as (
    select
        member_id,
        qualifies,
        ambassador_rank
    from {{ ref('int_community_ambassadors_scored') }}
    where is_current
)

select
    members.member_id,
    members.customer_id,
    members.display_name,
    members.member_status,
    members.joined_at,
    cast(
        {{ dbt.datediff('cast(members.joined_at as date)', as_of_date(), 'day') }} as integer
    ) as tenure_days,
    cast(coalesce(contributed.posts, 0) as integer) as posts,
    cast(coalesce(contributed.reviews, 0) as integer) as reviews,
    cast(coalesce(contributed.answers, 0) as integer) as answers,
    cast(contributed.average_review_rating as decimal(6, 2))
        as average_review_rating,
    cast(coalesce(acted.reactions_given, 0) as integer) as reactions_given,
    cast(coalesce(received.reactions_received, 0) as integer)
        as reactions_received,
    cast(coalesce(acted.recent_actions, 0) as integer) as recent_actions,
    acted.last_active_at,
    case
        when coalesce(acted.recent_actions, 0)
            >= {{ var('community_very_active_min_actions') }}
            then 'very_active'
        when coalesce(acted.recent_actions, 0)
            >= {{ var('community_active_min_actions') }}
            then 'active'
        when coalesce(acted.recent_actions, 0) >= 1 then 'occasional'
        else 'quiet'
    end as activity_level,
    cast(coalesce(points.points_balance, 0) as integer) as points_balance,
    cast(coalesce(points.points_earned, 0) as integer) as points_earned,
    cast(coalesce(points.points_spent, 0) as integer) as points_spent,
    coalesce(ambassadors.qualifies, false) as is_ambassador,
    cast(ambassadors.ambassador_rank as integer) as ambassador_rank
from members
left join contributed
    on members.member_id = contributed.member_id
left join received
    on members.member_id = received.member_id
left join acted
    on members.member_id = acted.member_id
left join points
    on members.member_id = points.member_id
left join ambassadors
    on members.member_id = ambassadors.member_id
