{# Generic test: no two rows share the same values in `columns`.
   Written here because the project takes no dbt packages (no network). #}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
