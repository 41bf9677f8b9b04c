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

{# Spark: collect_list keeps no order, so each object travels in a struct
   with its sort keys (k0, k1, ... from `order_by`, each `expr [asc|desc]`),
   array_sort orders the structs with a comparator built from those keys
   (nulls last, as asc in DuckDB and PostgreSQL), and transform keeps the objects;
   a null field is written as null, as elsewhere (Spark's to_json drops it by default). #}
{% macro spark__json_array_agg(fields, order_by) -%}
    {%- set keys = [] -%}
    {%- for term in order_by.split(',') -%}
        {%- set words = term.strip().split() -%}
        {%- set descending = words | length > 1 and words[-1] | lower == 'desc' -%}
        {%- set expr = (words[:-1] if words | length > 1 and words[-1] | lower in ('asc', 'desc') else words) | join(' ') -%}
        {%- do keys.append((expr, descending)) -%}
    {%- endfor -%}
    to_json(transform(
        array_sort(
            collect_list(named_struct(
                {%- for expr, _ in keys %}
                'k{{ loop.index0 }}', {{ expr }},
                {%- endfor %}
                'item', named_struct(
                    {%- for key, expr in fields %}
                    '{{ key }}', {{ expr }}{% if not loop.last %},{% endif %}
                    {%- endfor %}
                )
            )),
            (l, r) -> case
                {%- for _, descending in keys %}
                {%- set k = 'k' ~ loop.index0 %}
                when l.{{ k }} is null and r.{{ k }} is not null then 1
                when l.{{ k }} is not null and r.{{ k }} is null then -1
                when l.{{ k }} < r.{{ k }} then {{ 1 if descending else -1 }}
                when l.{{ k }} > r.{{ k }} then {{ -1 if descending else 1 }}
                {%- endfor %}
                else 0
            end
        ),
        entry -> entry.item
    ), map('ignoreNullFields', 'false'))
{%- endmacro %}
