{# Folder schemas are used as they are (staging, core, audiences, ...), not
   prefixed with the target schema, so that the sync engine, dashboards and
   analysts read `audiences.cart_abandoners` on every target. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
