{# dbt's cast(), on Spark: the portable type names the project's YAML uses
   (`varchar`, `text` in contracts) as Spark spells them (`string`; Spark wants
   a length on varchar). dbt builds a contract's expected schema with this
   macro, so the audience contract stays one YAML on every adapter. Found
   before dbt-spark's own through the `dispatch` search order in
   dbt_project.yml. #}
{% macro spark__cast(field, type) -%}
    {%- set spelled = type | trim | lower -%}
    cast({{ field }} as {{ 'string' if spelled in ('varchar', 'text') else type }})
{%- endmacro %}

{# dbt's dateadd(), on Spark: dbt-spark multiplies the interval unbracketed
   (`cast(a - b * 12 as int)` for years), so an expression as the interval
   (`extract(year from x) - extract(year from y)`) came out wrong: bracket it,
   then hand over to dbt-spark's own. #}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {{ return(dbt.spark__dateadd(datepart, '(' ~ interval ~ ')', from_date_or_timestamp)) }}
{%- endmacro %}
