-- program_revenue loses and invents nothing: for every attribution model, its
-- total equals the total credit in attributed_orders.
{{ config(meta={'dagster': {'ref': {'name': 'program_revenue'}}}) }}
{%- set models = ['first_touch', 'last_touch', 'linear', 'position_based'] %}

with

credited as (
    select
        {% for model in models %}
            coalesce(sum({{ model }}_credit), 0) as {{ model }}
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('attributed_orders') }}
),

reported as (
    select
        {% for model in models %}
            sum(
                case
                    when attribution_model = '{{ model }}'
                        then attributed_revenue
                    else 0
                end
            ) as {{ model }}
            {%- if not loop.last %},{% endif %}
        {% endfor %}
    from {{ ref('program_revenue') }}
)

select
    credited.first_touch as credited_first_touch,
    reported.first_touch as reported_first_touch
from credited
cross join reported
where
    {% for model in models %}
        credited.{{ model }} <> reported.{{ model }}
        {% if not loop.last %}or{% endif %}
    {% endfor %}
