-- seeds/rfm_segment_map names exactly one segment for each of the 25
-- (r_score, fm_score) pairs, so no scored customer falls out of rfm_segments.

with

scores as (
    {% for score in range(1, 6) %}
    select {{ score }} as score
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

pairs as (
    select
        r.score as r_score,
        fm.score as fm_score
    from scores as r
    cross join scores as fm
),

mapped as (
    select
        r_score,
        fm_score,
        count(*) as segments
    from {{ ref('rfm_segment_map') }}
    group by r_score, fm_score
)

select
    pairs.r_score,
    pairs.fm_score,
    coalesce(mapped.segments, 0) as segments
from pairs
left join mapped
    on pairs.r_score = mapped.r_score and pairs.fm_score = mapped.fm_score
where coalesce(mapped.segments, 0) <> 1
