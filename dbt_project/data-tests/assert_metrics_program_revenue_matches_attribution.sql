-- program_revenue loses and invents nothing: for every attribution model, its
-- total equals the total credit in attributed_orders.
{{ config(meta={'dagster': {'ref': {'name': 'program_revenue'}}}) }}

with

credited as (
    select
        sum(first_touch_credit) as first_touch,
        sum(last_touch_credit) as last_touch,
        sum(linear_credit) as linear,
        sum(position_based_credit) as position_based
    from {{ ref('attributed_orders') }}
),

reported as (
    select
        sum(case when attribution_model = 'first_touch' then attributed_revenue else 0 end) as first_touch,
        sum(case when attribution_model = 'last_touch' then attributed_revenue else 0 end) as last_touch,
        sum(case when attribution_model = 'linear' then attributed_revenue else 0 end) as linear,
        sum(case when attribution_model = 'position_based' then attributed_revenue else 0 end) as position_based
    from {{ ref('program_revenue') }}
)

select *
from credited
cross join reported
where
    coalesce(credited.first_touch, 0) <> reported.first_touch
    or coalesce(credited.last_touch, 0) <> reported.last_touch
    or coalesce(credited.linear, 0) <> reported.linear
    or coalesce(credited.position_based, 0) <> reported.position_based
