-- Every published contribution of a member up to as_of: posts (reviews,
-- questions, photos, discussions) and answers, one row each. Removed content
-- (moderation) counts for nothing. target_type is what reactions point to.

with

posts as (
    select
        post_id as contribution_id,
        'post' as target_type,
        post_kind as contribution_type,
        member_id,
        product_id,
        rating,
        created_at
    from {{ ref('stg_community__posts') }}
    where is_published and created_at <= {{ as_of_ts() }}
),

answers as (
    select
        answer_id as contribution_id,
        'answer' as target_type,
        'answer' as contribution_type,
        member_id,
        cast(null as {{ dbt.type_string() }}) as product_id,
        cast(null as integer) as rating,
        created_at
    from {{ ref('stg_community__answers') }}
    where is_published and created_at <= {{ as_of_ts() }}
)

select * from posts
union all
select * from answers
