{# Aggregate rows into a JSON array of objects, as text (null when no rows).
   fields: list of [key, sql expression] pairs; order_by: sql for the array order.
   Adapter-dispatched: DuckDB to_json(list(struct_pack(...))), PostgreSQL
   json_agg(json_build_object(...)). #}
{% macro json_array_agg(fields, order_by) -%}
    {{ return(adapter.dispatch('json_array_agg')(fields, order_by)) }}
{%- endmacro %}

{% macro default__json_array_agg(fields, order_by) -%}
    cast(to_json(list(struct_pack(
        {%- for key, expr in fields %}
        "{{ key }}" := {{ expr }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ) order by {{ order_by }})) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro postgres__json_array_agg(fields, order_by) -%}
    cast(json_agg(json_build_object(
        {%- for key, expr in fields %}
        '{{ key }}', {{ expr }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ) order by {{ order_by }}) as text)
{%- endmacro %}
