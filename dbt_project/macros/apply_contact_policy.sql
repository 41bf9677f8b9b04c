{# One audience mart = its candidates + the contact policy decided for every
   audience at once in int_audience_memberships_decided (consent, control group,
   cooldown, suppression by another audience, priority and the frequency cap).
   Emits the shared audience contract columns first, then `attributes` (a list of
   column names of the candidates relation, in contract order). With
   channels=true, also the channel decision of int_audience_channels_decided
   after the contract columns: channel (email | sms | null), channel_reason and
   phone_e164 (the SMS address); a sync then sends only the rows of its own
   channel (activations/sync/audience.py). #}
{% macro apply_contact_policy(candidates, audience_name, attributes, channels=false) -%}
select
    cast(candidates.person_id as {{ dbt.type_string() }}) as person_id,
    cast(decided.email as {{ dbt.type_string() }}) as email,
    cast(candidates.entered_at as {{ dbt.type_timestamp() }}) as entered_at,
    cast('{{ audience_name }}' as {{ dbt.type_string() }}) as audience,
    decided.is_sendable,
    decided.suppression_reason,
    decided.is_control
    {%- if channels %},
    cast(channels.channel as {{ dbt.type_string() }}) as channel,
    cast(channels.channel_reason as {{ dbt.type_string() }}) as channel_reason,
    cast(channels.phone_e164 as {{ dbt.type_string() }}) as phone_e164
    {%- endif %}
    {%- for column in attributes %},
    candidates.{{ column }}
    {%- endfor %}
from {{ candidates }} as candidates
inner join {{ ref('int_audience_memberships_decided') }} as decided
    on
        candidates.person_id = decided.person_id
        and decided.audience = '{{ audience_name }}'
{%- if channels %}
inner join {{ ref('int_audience_channels_decided') }} as channels
    on
        candidates.person_id = channels.person_id
        and channels.audience = '{{ audience_name }}'
{%- endif %}
{%- endmacro %}
