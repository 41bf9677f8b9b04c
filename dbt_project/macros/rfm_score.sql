{# A 1-5 quintile score over `order_by`: ties share the score of the bottom of
   their group (percent_rank), so the largest tie (one-time buyers) scores 1. #}
{% macro rfm_score(order_by) -%}
    cast(least(5, 1 + floor(5 * percent_rank() over (order by {{ order_by }}))) as integer)
{%- endmacro %}
