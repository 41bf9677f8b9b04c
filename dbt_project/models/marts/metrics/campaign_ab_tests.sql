{#- One row per A/B-tested campaign: subject-line tests compare open rates,
    image tests compare click rates (both over delivered emails). Pooled
    two-proportion z-test, two-sided p-value; verdict 'not enough data' below
    var ab_min_sample_per_variant delivered per variant, 'winner' when
    p < var ab_alpha, else 'no difference yet'. -#}
{%- set min_sample = var('ab_min_sample_per_variant', 100) -%}
{%- set alpha = var('ab_alpha', 0.05) -%}

with

variants as (
    select
        campaign_id,
        campaign_name,
        program,
        ab_test,
        variant,
        delivered,
        case when ab_test = 'subject' then opened else clicked end as successes
    from {{ ref('campaign_performance') }}
    where ab_test in ('subject', 'image') and variant in ('A', 'B')
),

pivoted as (
    select
        campaign_id,
        max(campaign_name) as campaign_name,
        max(program) as program,  -- noqa: RF04
        max(ab_test) as ab_test,
        coalesce(sum(case when variant = 'A' then delivered end), 0)
            as a_delivered,
        coalesce(sum(case when variant = 'A' then successes end), 0)
            as a_successes,
        coalesce(sum(case when variant = 'B' then delivered end), 0)
            as b_delivered,
        coalesce(sum(case when variant = 'B' then successes end), 0)
            as b_successes
    from variants
    group by campaign_id
),

tested as (
    select
        pivoted.*,
        case
            when pivoted.ab_test = 'subject' then 'open_rate' else 'click_rate'
        end
            as metric,
        1.0 * pivoted.a_successes / nullif(pivoted.a_delivered, 0) as a_rate,
        1.0 * pivoted.b_successes / nullif(pivoted.b_delivered, 0) as b_rate,
        {{ metrics_two_proportion_z(
            'a_successes', 'a_delivered', 'b_successes', 'b_delivered'
        ) }} as z
    from pivoted
),

with_p as (
    select
        tested.*,
        {{ metrics_two_sided_p_value('z') }} as p_value
    from tested
)

select
    campaign_id,
    campaign_name,
    program,
    ab_test,
    metric,
    a_delivered,
    a_successes,
    cast(a_rate as decimal(10, 6)) as a_rate,
    b_delivered,
    b_successes,
    cast(b_rate as decimal(10, 6)) as b_rate,
    cast(b_rate - a_rate as decimal(10, 6)) as rate_difference,
    cast(z as decimal(20, 9)) as z,
    cast(p_value as decimal(20, 9)) as p_value,
    case
        when a_delivered < {{ min_sample }} or b_delivered < {{ min_sample }}
            then 'not enough data'
        when p_value < {{ alpha }} then 'winner'
        else 'no difference yet'
    end as verdict,
    case
        when a_delivered < {{ min_sample }} or b_delivered < {{ min_sample }}
            then null
        when p_value < {{ alpha }} and b_rate > a_rate then 'B'
        when p_value < {{ alpha }} then 'A'
    end as winner
from with_p
