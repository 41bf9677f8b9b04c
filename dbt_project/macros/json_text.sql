{# The text value of a top-level key of a JSON object stored as text. #}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text')(column, key)) }}
{%- endmacro %}

{% macro default__json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro postgres__json_text(column, key) -%}
    ({{ column }}::json ->> '{{ key }}')
{%- endmacro %}
