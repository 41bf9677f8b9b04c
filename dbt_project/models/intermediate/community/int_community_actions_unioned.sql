-- Everything a member did in the community up to as_of, one row per action:
-- published posts and answers, reactions given and product-test applications.
-- What activity levels and the engaged_non_buyers audience count.

with

contributions as (
    select
        member_id,
        contribution_type as action_type,
        created_at as acted_at
    from {{ ref('int_community_contributions_unioned') }}
),

reactions as (
    select
        member_id,
        'reaction' as action_type,
        created_at as acted_at
    from {{ ref('stg_community__reactions') }}
    where created_at <= {{ as_of_ts() }}
),

applications as (
    select
        member_id,
        'product_test_application' as action_type,
        applied_at as acted_at
    from {{ ref('stg_community__product_test_applications') }}
    where applied_at <= {{ as_of_ts() }}
)

select * from contributions
union all
select * from reactions
union all
select * from applications
