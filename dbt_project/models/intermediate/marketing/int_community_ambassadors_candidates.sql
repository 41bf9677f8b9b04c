-- Community ambassadors: members with a shop account who qualify under the
-- ambassador rule at as_of (int_community_ambassadors_scored: most active and
-- best-rated contributors over community_ambassador_window_days; the rule's
-- thresholds are vars). entered_at = the first weekly scoring of the current
-- qualifying streak (after the last scoring where they did not qualify), or
-- as_of when they qualify for the first time now. One row per person (their
-- best-ranked membership).

with

scored as (
    select * from {{ ref('int_community_ambassadors_scored') }}
    where customer_id is not null
),

current_ambassadors as (
    select * from scored
    where is_current and qualifies
),

last_miss as (
    select
        member_id,
        max(scored_at) as missed_at
    from scored
    where not qualifies and not is_current
    group by member_id
),

streaks as (
    select
        scored.member_id,
        min(scored.scored_at) as entered_at
    from scored
    left join last_miss
        on scored.member_id = last_miss.member_id
    where
        scored.qualifies
        and (
            last_miss.missed_at is null
            or scored.scored_at > last_miss.missed_at
        )
    group by scored.member_id
),

members as (
    select
        member_id,
        display_name,
        points_balance
    from {{ ref('community_members') }}
),

ranked as (
    select
        current_ambassadors.*,
        streaks.entered_at,
        members.display_name,
        members.points_balance,
        row_number() over (
            partition by current_ambassadors.customer_id
            order by
                current_ambassadors.ambassador_rank,
                current_ambassadors.member_id
        ) as person_rank
    from current_ambassadors
    inner join streaks
        on current_ambassadors.member_id = streaks.member_id
    left join members
        on current_ambassadors.member_id = members.member_id
)

select
    customer_id as person_id,
    entered_at,
    member_id,
    display_name,
    contribution_count,
    reactions_received,
    helpful_received,
    reactions_per_contribution,
    cast(ambassador_rank as integer) as ambassador_rank,
    cast(coalesce(points_balance, 0) as integer) as points_balance
from ranked
where person_rank = 1
