{# The text value of a key of a JSON object stored as text. A dotted key
   ('page.path') reaches into nested objects. #}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text')(column, key)) }}
{%- endmacro %}

{% macro default__json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{% macro postgres__json_text(column, key) -%}
    {%- if '.' in key -%}
        ({{ column }}::json #>> '{{ "{" ~ key.split(".") | join(",") ~ "}" }}')
    {%- else -%}
        ({{ column }}::json ->> '{{ key }}')
    {%- endif -%}
{%- endmacro %}

{# Spark: get_json_object, whose JSON path reaches nested keys the same way #}
{% macro spark__json_text(column, key) -%}
    get_json_object({{ column }}, '$.{{ key }}')
{%- endmacro %}
