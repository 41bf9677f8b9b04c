{# A double-precision float type: `double precision` in DuckDB and
   PostgreSQL, `double` in Spark (which has no two-word spelling). #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}
