{#- Community members against comparable non-members (int_community_comparison_people),
    over the community_comparison_window_days before as_of. Matching: exact
    strata of tenure x prior spend; the non-members of a stratum are weighted
    so that they count as many as its members (weight = members / non-members
    of the stratum), strata without both groups are left out
    (unmatched_members counts the members lost). The comparison is then the
    members' value against the weighted non-members' value, for three
    metrics, each a ratio of sums sum(w y) / sum(w x):
      open_rate           y = emails opened,  x = emails delivered
      basket_value        y = revenue,        x = completed orders
      purchase_frequency  y = completed orders, x = 1 (orders per person in the window)
    ratio = members' value / non-members' value, with a 95% interval on the
    log scale: var(R) = sum(w^2 (y - R x)^2) / sum(w x)^2 for each group
    (linearised ratio estimator, weights taken as fixed),
    se(log ratio) = sqrt(var_m / R_m^2 + var_n / R_n^2), interval =
    ratio x exp(-+1.96 se). unmatched_non_member_value is the plain value of
    all non-members, to show what matching changed. verdict: members higher |
    members lower (the interval excludes 1) | no difference yet | not enough
    data (a group with fewer than 2 people or a zero value). -#}
{%- set z95 = 1.959963985 -%}

with

people as (
    select * from {{ ref('int_community_comparison_people') }}
),

strata as (
    select
        tenure_bucket,
        spend_bucket,
        sum(case when is_member then 1 else 0 end) as members,
        sum(case when is_member then 0 else 1 end) as non_members
    from people
    group by tenure_bucket, spend_bucket
),

weighted as (
    select
        people.*,
        strata.members > 0 and strata.non_members > 0 as is_matched,
        case
            when people.is_member then 1.0
            when strata.members > 0 and strata.non_members > 0
                then cast(strata.members as {{ type_double() }})
                    / strata.non_members
            else 0.0
        end as weight
    from people
    inner join strata
        on
            people.tenure_bucket = strata.tenure_bucket
            and people.spend_bucket = strata.spend_bucket
),

outcomes as (
    select
        'open_rate' as metric,
        is_member,
        is_matched,
        weight,
        cast(emails_opened as {{ type_double() }}) as y,
        cast(emails_delivered as {{ type_double() }}) as x
    from weighted
    union all
    select
        'basket_value' as metric,
        is_member,
        is_matched,
        weight,
        cast(revenue as {{ type_double() }}) as y,
        cast(orders as {{ type_double() }}) as x
    from weighted
    union all
    select
        'purchase_frequency' as metric,
        is_member,
        is_matched,
        weight,
        cast(orders as {{ type_double() }}) as y,
        1.0 as x
    from weighted
),

values_by_group as (
    select
        metric,
        is_member,
        sum(case when is_matched then 1 else 0 end) as matched_people,
        sum(case when is_matched then 0 else 1 end) as unmatched_people,
        sum(case when is_matched then weight * y else 0 end)
        / nullif(sum(case when is_matched then weight * x else 0 end), 0)
            as matched_value,
        sum(y) / nullif(sum(x), 0) as plain_value,
        sum(case when is_matched then weight * x else 0 end) as weighted_x
    from outcomes
    group by metric, is_member
),

variances as (
    select
        outcomes.metric,
        outcomes.is_member,
        sum(
            outcomes.weight * outcomes.weight
            * (outcomes.y - values_by_group.matched_value * outcomes.x)
            * (outcomes.y - values_by_group.matched_value * outcomes.x)
        )
        / nullif(values_by_group.weighted_x * values_by_group.weighted_x, 0)
            as variance
    from outcomes
    inner join values_by_group
        on
            outcomes.metric = values_by_group.metric
            and outcomes.is_member = values_by_group.is_member
    where outcomes.is_matched
    group by
        outcomes.metric,
        outcomes.is_member,
        values_by_group.matched_value,
        values_by_group.weighted_x
),

metrics as (
    select
        'open_rate' as metric,
        1 as metric_order
    union all
    select
        'basket_value' as metric,
        2 as metric_order
    union all
    select
        'purchase_frequency' as metric,
        3 as metric_order
),

compared as (
    select
        metrics.metric,
        metrics.metric_order,
        coalesce(m.matched_people, 0) as members,
        coalesce(m.unmatched_people, 0) as unmatched_members,
        coalesce(n.matched_people, 0) as matched_non_members,
        m.matched_value as member_value,
        n.matched_value as non_member_value,
        n.plain_value as unmatched_non_member_value,
        m.matched_value / nullif(n.matched_value, 0) as ratio,
        sqrt(
            mv.variance / nullif(m.matched_value * m.matched_value, 0)
            + nv.variance / nullif(n.matched_value * n.matched_value, 0)
        ) as log_ratio_se
    from metrics
    left join values_by_group as m
        on metrics.metric = m.metric and m.is_member
    left join values_by_group as n
        on metrics.metric = n.metric and not n.is_member
    left join variances as mv
        on metrics.metric = mv.metric and mv.is_member
    left join variances as nv
        on metrics.metric = nv.metric and not nv.is_member
),

intervals as (
    select
        compared.*,
        compared.ratio * exp(-{{ z95 }} * compared.log_ratio_se) as ratio_low,
        compared.ratio * exp({{ z95 }} * compared.log_ratio_se) as ratio_high
    from compared
)

select
    metric,
    metric_order,
    cast(members as integer) as members,
    cast(matched_non_members as integer) as matched_non_members,
    cast(unmatched_members as integer) as unmatched_members,
    cast(member_value as decimal(18, 6)) as member_value,
    cast(non_member_value as decimal(18, 6)) as non_member_value,
    cast(unmatched_non_member_value as decimal(18, 6))
        as unmatched_non_member_value,
    cast(ratio as decimal(18, 6)) as ratio,
    cast(ratio_low as decimal(18, 6)) as ratio_low,
    cast(ratio_high as decimal(18, 6)) as ratio_high,
    {{ var('community_comparison_window_days') }} as window_days,
    case
        when
            members < 2
            or matched_non_members < 2
            or ratio is null
            or ratio <= 0
            or log_ratio_se is null
            then 'not enough data'
        when ratio_low > 1 then 'members higher'
        when ratio_high < 1 then 'members lower'
        else 'no difference yet'
    end as verdict
from intervals
