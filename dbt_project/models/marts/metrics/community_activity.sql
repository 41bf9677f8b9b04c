{#- The community week by week (weeks start on Monday, UTC), for every week
    with any community action up to as_of: members who joined, published
    content by kind (removed content left out), answers, reactions, members
    active that week (any action: int_community_actions_unioned), and
    ambassadors: members qualifying under the ambassador rule at the end of
    the week (at as_of for the current week; int_community_ambassadors_scored;
    null for a week without a published contribution, where the rule was not
    scored). -#}

with

actions as (
    select
        member_id,
        action_type,
        acted_at,
        cast({{ dbt.date_trunc('week', 'acted_at') }} as date) as week_start
    from {{ ref('int_community_actions_unioned') }}
),

joins as (
    select
        cast({{ dbt.date_trunc('week', 'joined_at') }} as date) as week_start,
        count(*) as new_members
    from {{ ref('stg_community__members') }}
    where joined_at <= {{ as_of_ts() }}
    group by 1
),

weekly as (
    select
        week_start,
        sum(case when action_type = 'review' then 1 else 0 end) as reviews,
        sum(case when action_type = 'question' then 1 else 0 end) as questions,
        sum(case when action_type = 'photo' then 1 else 0 end) as photos,
        sum(case when action_type = 'discussion' then 1 else 0 end)
            as discussions,
        sum(case when action_type = 'answer' then 1 else 0 end) as answers,
        sum(case when action_type = 'reaction' then 1 else 0 end) as reactions,
        sum(
            case when action_type = 'product_test_application' then 1 else 0 end
        )
            as product_test_applications,
        count(distinct member_id) as active_members
    from actions
    group by week_start
),

ambassadors as (
    select
        scored_at,
        sum(case when qualifies then 1 else 0 end) as ambassadors,
        count(*) as members
    from {{ ref('int_community_ambassadors_scored') }}
    group by scored_at
)

select
    weekly.week_start,
    cast(coalesce(joins.new_members, 0) as integer) as new_members,
    cast(
        weekly.reviews
        + weekly.questions
        + weekly.photos
        + weekly.discussions as integer
    )
        as posts,
    cast(weekly.reviews as integer) as reviews,
    cast(weekly.questions as integer) as questions,
    cast(weekly.photos as integer) as photos,
    cast(weekly.discussions as integer) as discussions,
    cast(weekly.answers as integer) as answers,
    cast(weekly.reactions as integer) as reactions,
    cast(weekly.product_test_applications as integer)
        as product_test_applications,
    cast(weekly.active_members as integer) as active_members,
    cast(ambassadors.members as integer) as members,
    cast(ambassadors.ambassadors as integer) as ambassadors
from weekly
left join joins
    on weekly.week_start = joins.week_start
left join ambassadors
    on
        ambassadors.scored_at = case
            when {{ dbt.dateadd('day', 7, 'weekly.week_start') }}
                > {{ as_of_ts() }}
                then {{ as_of_ts() }}
            else cast(                                                {{ dbt.dateadd('day', 7, 'weekly.week_start') }} as {{ dbt.type_timestamp() }}
                )
        end
