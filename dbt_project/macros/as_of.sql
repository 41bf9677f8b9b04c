{# The reference moment of audiences and metrics.
   var `as_of` unset: now (UTC). var `as_of` = 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS':
   that moment (a date means its midnight, the start of that day). #}
{% macro as_of_ts() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as timestamp)
    {%- else -%}
        cast({{ dbt.current_timestamp() }} as timestamp)
    {%- endif -%}
{%- endmacro %}

{% macro as_of_date() -%}
    cast({{ as_of_ts() }} as date)
{%- endmacro %}
