-- Nobody is over the frequency cap: marketing sends in the rolling
-- frequency_cap_days (programs that count toward the cap) plus the person's
-- sendable rows in audiences that count toward the cap never exceed
-- frequency_cap_messages.

with

policies as (
    select
        audience,
        counts_toward_cap
    from {{ ref('audience_policies') }}
),

sendable as (
    {% for audience in audience_names() %}
    select
        person_id,
        audience
    from {{ ref(audience) }}
    where is_sendable
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

planned as (
    select
        sendable.person_id,
        count(*) as planned_messages
    from sendable
    inner join policies
        on sendable.audience = policies.audience
    where policies.counts_toward_cap
    group by sendable.person_id
),

sent as (
    select
        sends.person_id,
        count(*) as sent_messages
    from {{ ref('int_email_sends_attributed') }} as sends
    left join policies
        on sends.program = policies.audience
    where
        coalesce(policies.counts_toward_cap, true)
        and sends.sent_at > {{ dbt.dateadd('day', -1 * var('frequency_cap_days'), as_of_ts()) }}
    group by sends.person_id
)

select
    planned.person_id,
    planned.planned_messages,
    coalesce(sent.sent_messages, 0) as sent_messages
from planned
left join sent
    on planned.person_id = sent.person_id
where planned.planned_messages + coalesce(sent.sent_messages, 0) > {{ var('frequency_cap_messages') }}
