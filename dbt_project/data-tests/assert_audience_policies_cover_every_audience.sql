-- Every audience (macro audience_names) has its row in seeds/audience_policies:
-- otherwise it would silently get the defaults (priority 999, no control
-- group).

with

audiences as (
    {% for audience in audience_names() %}
    select '{{ audience }}' as audience
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select audiences.audience
from audiences
left join {{ ref('audience_policies') }} as policies
    on audiences.audience = policies.audience
where policies.audience is null
