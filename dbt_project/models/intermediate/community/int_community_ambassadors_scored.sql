{#- The ambassador rule, scored for every member at the end of each week with
    community content and at as_of (is_current): over the
    community_ambassador_window_days before each moment, the member's published
    contributions (posts and answers) and the reactions other members gave
    them up to that moment. A member qualifies when they were a member in good
    standing then (active, or banned / left only later), made at least
    community_ambassador_min_contributions contributions and received at least
    community_ambassador_min_reactions_per_contribution reactions per
    contribution. One row per member and moment (members who had joined by
    then); ambassador_rank orders the qualifying members of a moment by
    reactions received, then contributions. -#}
{%- set window_days = var('community_ambassador_window_days') -%}

with

members as (
    select
        member_id,
        customer_id,
        member_status,
        joined_at,
        updated_at
    from {{ ref('stg_community__members') }}
    where joined_at <= {{ as_of_ts() }}
),

contributions as (
    select
        contribution_id,
        target_type,
        member_id,
        created_at
    from {{ ref('int_community_contributions_unioned') }}
),

reactions as (
    select
        target_type,
        target_id,
        member_id as reacted_by,
        created_at as reacted_at,
        is_helpful
    from {{ ref('stg_community__reactions') }}
    where created_at <= {{ as_of_ts() }}
),

weeks as (
    select distinct
        {{ dbt.date_trunc('week', 'created_at') }} as week_start
    from contributions
),

moments as (
    select
        cast(                                    {{ dbt.dateadd('day', 7, 'week_start') }} as {{ dbt.type_timestamp() }}
        )
            as scored_at
    from weeks
    where {{ dbt.dateadd('day', 7, 'week_start') }} < {{ as_of_ts() }}
    union all
    select cast({{ as_of_ts() }} as {{ dbt.type_timestamp() }}) as scored_at
),

scored as (
    select
        moments.scored_at,
        contributions.member_id,
        count(distinct contributions.contribution_id) as contribution_count,
        count(reactions.target_id) as reactions_received,
        sum(case when reactions.is_helpful then 1 else 0 end)
            as helpful_received
    from moments
    inner join contributions
        on
            moments.scored_at >= contributions.created_at
            and contributions.created_at
            > {{ dbt.dateadd('day', -1 * window_days, 'moments.scored_at') }}
    left join reactions
        on
            contributions.target_type = reactions.target_type
            and contributions.contribution_id = reactions.target_id
            and contributions.member_id != reactions.reacted_by
            and moments.scored_at >= reactions.reacted_at
    group by moments.scored_at, contributions.member_id
),

grid as (
    select
        moments.scored_at,
        members.member_id,
        members.customer_id,
        (
            members.member_status = 'active'
            or members.updated_at > moments.scored_at
        ) as in_good_standing,
        coalesce(scored.contribution_count, 0) as contribution_count,
        coalesce(scored.reactions_received, 0) as reactions_received,
        coalesce(scored.helpful_received, 0) as helpful_received
    from moments
    inner join members
        on moments.scored_at >= members.joined_at
    left join scored
        on
            moments.scored_at = scored.scored_at
            and members.member_id = scored.member_id
),

judged as (
    select
        grid.*,
        cast(grid.reactions_received as {{ type_double() }})
        / nullif(grid.contribution_count, 0) as reactions_per_contribution,
        coalesce(
            grid.in_good_standing
            and grid.contribution_count
            >= {{ var('community_ambassador_min_contributions') }}
            and grid.reactions_received
            >= {{ var('community_ambassador_min_reactions_per_contribution') }}
            * grid.contribution_count,
            false
        ) as qualifies
    from grid
)

select
    scored_at,
    member_id,
    customer_id,
    cast(contribution_count as integer) as contribution_count,
    cast(reactions_received as integer) as reactions_received,
    cast(helpful_received as integer) as helpful_received,
    cast(reactions_per_contribution as decimal(12, 4))
        as reactions_per_contribution,
    qualifies,
    case
        when qualifies
            then row_number() over (
                    partition by scored_at, qualifies
                    order by
                        reactions_received desc,
                        contribution_count desc,
                        member_id asc
                )
    end as ambassador_rank,
    scored_at = {{ as_of_ts() }} as is_current
from judged
