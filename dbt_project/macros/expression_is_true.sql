{# Generic test: every row satisfies a SQL boolean expression.
   Written here because the project takes no dbt packages (no network). #}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
