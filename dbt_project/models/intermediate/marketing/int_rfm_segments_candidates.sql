-- RFM scores of every customer with a completed order, 1 (worst) to 5 (best):
-- score = least(5, 1 + floor(5 * percent_rank())) over recency_days
-- (descending: fewer days is better), order_count and total_revenue
-- (ascending). Ties share the score of the bottom of their group, so the
-- scores are stable between builds and one-time buyers (usually the largest
-- tie) score F = 1, which is what New Customers, Promising and Lost need. fm_score = (f + m) / 2 rounded half up.
-- segment from seeds/rfm_segment_map (r_score, fm_score). recency_days: whole
-- days from the last completed order's date to the as_of date.
-- entered_at = the last completed order (what the scores are anchored on).

with

summaries as (
    select
        customer_id,
        order_count,
        total_revenue,
        recency_days,
        last_order_at
    from {{ ref('int_customer_orders_summarized') }}
),

scored as (
    select
        summaries.*,
        {{ rfm_score('summaries.recency_days desc') }} as r_score,
        {{ rfm_score('summaries.order_count') }} as f_score,
        {{ rfm_score('summaries.total_revenue') }} as m_score
    from summaries
),

combined as (
    select
        scored.*,
        cast(floor((scored.f_score + scored.m_score + 1) / 2.0) as integer) as fm_score
    from scored
)

select
    combined.customer_id as person_id,
    combined.last_order_at as entered_at,
    segment_map.segment,
    combined.r_score,
    combined.f_score,
    combined.m_score,
    combined.fm_score,
    cast(combined.recency_days as integer) as recency_days,
    cast(combined.order_count as integer) as frequency,
    cast(combined.total_revenue as decimal(12, 2)) as monetary
from combined
inner join {{ ref('rfm_segment_map') }} as segment_map
    on
        combined.r_score = segment_map.r_score
        and combined.fm_score = segment_map.fm_score
