-- Control-group rows are held out: never sendable, and always with a reason.

{% for audience in audience_names() %}
select
    person_id,
    audience,
    suppression_reason
from {{ ref(audience) }}
where is_control and (is_sendable or suppression_reason is null)
{% if not loop.last %}union all{% endif %}
{% endfor %}
