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
