{#- The warehouse relation of `relation` (a source() or ref()) when it exists,
    else none (and none at parse time). For tables the product writes only
    once it has run: the sync engine's state, the coupon ledger. The model
    still calls source() itself, so dbt knows what it reads. -#}
{% macro existing_relation(relation) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=relation.database,
        schema=relation.schema,
        identifier=relation.identifier,
    )) }}
{%- endmacro %}

{#- Whether an existing relation has a column (case-insensitive); false for none. -#}
{% macro relation_has_column(relation, column) -%}
    {{ return(relation is not none and column | lower in (
        adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list
    )) }}
{%- endmacro %}
