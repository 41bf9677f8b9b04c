{# Data tests of the large event tables say `where: "<column> >= __recent_since__"`
   (dbt renders no project macro in a test's config, hence the placeholder,
   as dbt's docs suggest). On the hourly path (`activations build --hourly`
   and the Dagster job hourly_build set var tests_recent_hours) the test checks
   only the rows loaded in those last hours before as_of: an hourly build
   tests what it loaded, not 90 days of history again. Any other build drops
   the filter and tests every row. #}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where and '__recent_since__' in where -%}
        {%- set hours = var('tests_recent_hours', none) -%}
        {%- if hours is none -%}
            {%- set where = none -%}
        {%- else -%}
            {%- set since = dbt.dateadd('hour', -1 * (hours | int), as_of_ts()) -%}
            {%- set where = where | replace('__recent_since__', '(' ~ since ~ ')') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
