{# Column names of a relation (lowercase), to read tables whose columns are
   owned by another part of the product (the sync engine's state tables). #}
{% macro metrics_columns(relation) -%}
    {{ return(adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list) }}
{%- endmacro %}

{# The first of `candidates` that is a column in `columns`, else `default`. #}
{% macro metrics_pick(columns, candidates, default='null') -%}
    {%- for name in candidates if name in columns -%}
        {%- if loop.first %}{{ name }}{% endif -%}
    {%- else -%}
        {{ default }}
    {%- endfor -%}
{%- endmacro %}
