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

{# Many keys of one JSON column, parsed once: json_texts(column, keys) is a
   column to select in one CTE (aliased, say, as `parsed`) and
   json_text_in(parsed, column, keys, key) reads one key from it in the next.
   DuckDB parses the text once into a list of values (json_text per key parses
   it again for every key: at 60M events that was most of a full build);
   PostgreSQL casts it once to jsonb; elsewhere nothing is parsed ahead and
   json_text_in falls back to json_text. #}
{% macro json_texts(column, keys) -%}
    {{ return(adapter.dispatch('json_texts')(column, keys)) }}
{%- endmacro %}

{% macro default__json_texts(column, keys) -%}
    cast(null as {{ dbt.type_string() }})
{%- endmacro %}

{% macro duckdb__json_texts(column, keys) -%}
    json_extract_string({{ column }}, [
        {%- for key in keys %}'$.{{ key }}'{{ ", " if not loop.last }}{% endfor -%}
    ])
{%- endmacro %}

{% macro postgres__json_texts(column, keys) -%}
    ({{ column }})::jsonb
{%- endmacro %}

{% macro json_text_in(parsed, column, keys, key) -%}
    {%- if key not in keys -%}
        {{ exceptions.raise_compiler_error("json_text_in: '" ~ key ~ "' is not among the keys parsed from " ~ column) }}
    {%- endif -%}
    {{ return(adapter.dispatch('json_text_in')(parsed, column, keys, key)) }}
{%- endmacro %}

{% macro default__json_text_in(parsed, column, keys, key) -%}
    {{ json_text(column, key) }}
{%- endmacro %}

{% macro duckdb__json_text_in(parsed, column, keys, key) -%}
    {{ parsed }}[{{ keys.index(key) + 1 }}]
{%- endmacro %}

{% macro postgres__json_text_in(parsed, column, keys, key) -%}
    {%- if '.' in key -%}
        ({{ parsed }} #>> '{{ "{" ~ key.split(".") | join(",") ~ "}" }}')
    {%- else -%}
        ({{ parsed }} ->> '{{ key }}')
    {%- endif -%}
{%- endmacro %}
