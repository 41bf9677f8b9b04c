{{ config(materialized='table') }}
-- One channel per audience row (person, audience, entry = one trigger): email,
-- sms or none, with the reason, under var channel_rule for the audiences of
-- var sms_fallback_audiences (every other audience: email or none). The email
-- side is int_audience_memberships_decided (is_sendable, suppression_reason);
-- the SMS side is sms_contact_policy (phone, SMS consent, quiet hours, cap).
-- The first rule that applies:
--   1. no channel for the program: control_group, cooldown,
--      lower_priority_audience (they hold for every channel);
--   2. sms_already_sent: an SMS sync confirmed an SMS of this audience at or
--      after entered_at: one SMS per trigger, and no email after it;
--   3. an email of this program was sent at or after entered_at:
--      email (email_sent), except under sms_when_email_not_opened: email
--      (email_opened) once it was opened, email (email_awaiting_open) while
--      less than sms_fallback_after_hours passed, then sms
--      (sms_email_not_opened) if SMS is sendable, else none with its reason;
--   4. email is sendable: email (email_sendable);
--   5. email is not sendable: none (email_not_sendable) under email_first or
--      for an audience without fallback; else sms (sms_email_not_sendable)
--      if SMS is sendable, else none with the SMS reason (missing_phone,
--      invalid_phone, sms_no_consent, sms_unsubscribed, sms_unknown_time_zone,
--      sms_quiet_hours, sms_frequency_cap);
--   6. the SMS cap across audiences: a person's sms rows beyond the slots left
--      (sms_frequency_cap_messages - SMS sent in the period), by priority then
--      audience name, become none (sms_frequency_cap).
-- So nobody is sms without SMS consent, a valid phone, outside quiet hours and
-- under the cap, and a trigger reached by one channel is never given the other
-- (rule 3 is the one planned exception: the SMS after an unopened email).

{%- set rule = var('channel_rule') %}
{%- if rule not in ['email_first', 'sms_when_email_not_sendable', 'sms_when_email_not_opened'] %}
    {{ exceptions.raise_compiler_error(
        "var channel_rule " ~ (rule | tojson) ~ " is unknown: use email_first, "
        ~ "sms_when_email_not_sendable or sms_when_email_not_opened"
    ) }}
{%- endif %}
{%- set fallback_audiences = var('sms_fallback_audiences') or [] %}

with

memberships as (
    select
        person_id,
        audience,
        entered_at,
        priority,
        is_control,
        is_sendable,
        suppression_reason
    from {{ ref('int_audience_memberships_decided') }}
),

sms_policy as (
    select
        person_id,
        phone_e164,
        sms_sends_in_period,
        reason as sms_reason
    from {{ ref('sms_contact_policy') }}
),

email_sends as (
    select
        person_id,
        program,
        sent_at
    from {{ ref('int_email_sends_attributed') }}
),

customers as (
    select
        customer_id,
        email
    from {{ ref('customers') }}
),

campaigns as (
    select
        campaign_id,
        program
    from {{ ref('stg_esp__campaigns') }}
),

-- opens of marketing emails up to as_of, per person and program (as the sends)
email_opens as (
    select
        coalesce(events.customer_id, customers.customer_id) as person_id,
        campaigns.program,
        events.occurred_at as opened_at
    from {{ ref('stg_esp__email_events') }} as events
    left join customers
        on events.customer_id is null and events.email = customers.email
    inner join campaigns
        on events.campaign_id = campaigns.campaign_id
    where
        events.event_type = 'opened'
        and events.occurred_at <= {{ as_of_ts() }}
        and coalesce(events.customer_id, customers.customer_id) is not null
),

sms_sends as (
    select
        person_id,
        audience,
        sent_at
    from {{ ref('stg_activations__sms_sends') }}
    where sent_at <= {{ as_of_ts() }}
),

-- the first email and the first SMS of this program at or after the entry
-- (this trigger), and the first open of an email of the program after that
-- email: joins and aggregates, one row per (person, audience)
email_sent as (
    select
        memberships.person_id,
        memberships.audience,
        min(email_sends.sent_at) as email_sent_at
    from memberships
    inner join email_sends
        on
            memberships.person_id = email_sends.person_id
            and memberships.audience = email_sends.program
            and memberships.entered_at <= email_sends.sent_at
    group by memberships.person_id, memberships.audience
),

sms_sent as (
    select
        memberships.person_id,
        memberships.audience,
        min(sms_sends.sent_at) as sms_sent_at
    from memberships
    inner join sms_sends
        on
            memberships.person_id = sms_sends.person_id
            and memberships.audience = sms_sends.audience
            and memberships.entered_at <= sms_sends.sent_at
    group by memberships.person_id, memberships.audience
),

email_opened as (
    select
        email_sent.person_id,
        email_sent.audience,
        min(email_opens.opened_at) as email_opened_at
    from email_sent
    inner join email_opens
        on
            email_sent.person_id = email_opens.person_id
            and email_sent.audience = email_opens.program
            and email_sent.email_sent_at <= email_opens.opened_at
    group by email_sent.person_id, email_sent.audience
),

joined as (
    select
        memberships.*,
        email_sent.email_sent_at,
        email_opened.email_opened_at,
        sms_sent.sms_sent_at,
        sms_policy.phone_e164,
        coalesce(sms_policy.sms_sends_in_period, 0) as sms_sends_in_period,
        case
            when sms_policy.person_id is null then 'missing_phone'
            else sms_policy.sms_reason
        end as sms_reason,
        {% if rule != 'email_first' and fallback_audiences | length > 0 -%}
            memberships.audience in (
                {%- for audience in fallback_audiences %}
                    '{{ audience }}'{% if not loop.last %},{% endif %}
                {%- endfor %}
            )
        {%- else -%}
            false
        {%- endif %} as falls_back
    from memberships
    left join email_sent
        on
            memberships.person_id = email_sent.person_id
            and memberships.audience = email_sent.audience
    left join email_opened
        on
            memberships.person_id = email_opened.person_id
            and memberships.audience = email_opened.audience
    left join sms_sent
        on
            memberships.person_id = sms_sent.person_id
            and memberships.audience = sms_sent.audience
    left join sms_policy
        on memberships.person_id = sms_policy.person_id
),

tentative as (
    select
        joined.*,
        case
            when joined.is_control then 'none:control_group'
            when
                joined.suppression_reason in ('cooldown', 'lower_priority_audience')
                then 'none:' || joined.suppression_reason
            when joined.sms_sent_at is not null then 'none:sms_already_sent'
            when joined.email_sent_at is not null then
                case
                    {%- if rule == 'sms_when_email_not_opened' %}
                        when not joined.falls_back then 'email:email_sent'
                        when joined.email_opened_at is not null then 'email:email_opened'
                        when
                            {{ as_of_ts() }} < {{ dbt.dateadd(
                                'hour', var('sms_fallback_after_hours'), 'joined.email_sent_at'
                            ) }}
                            then 'email:email_awaiting_open'
                        when joined.sms_reason is null then 'sms:sms_email_not_opened'
                        else 'none:' || joined.sms_reason
                    {%- else %}
                        when true then 'email:email_sent'
                    {%- endif %}
                end
            when joined.is_sendable then 'email:email_sendable'
            when not joined.falls_back then 'none:email_not_sendable'
            when
                joined.suppression_reason not in (
                    'missing_email',
                    'invalid_email',
                    'no_consent',
                    'unconfirmed_double_opt_in',
                    'unsubscribed',
                    'hard_bounce',
                    'spam_complaint',
                    'frequency_cap'
                )
                then 'none:' || joined.suppression_reason
            when joined.sms_reason is null then 'sms:sms_email_not_sendable'
            else 'none:' || joined.sms_reason
        end as decision
    from joined
),

ranked as (
    select
        tentative.*,
        case
            when tentative.decision like 'sms:%'
                then row_number() over (
                        partition by tentative.person_id, tentative.decision like 'sms:%'
                        order by tentative.priority, tentative.audience
                    )
        end as sms_rank
    from tentative
)

select
    person_id,
    audience,
    entered_at,
    case
        when sms_rank > {{ var('sms_frequency_cap_messages') }} - sms_sends_in_period then null
        when decision like 'email:%' then 'email'
        when decision like 'sms:%' then 'sms'
    end as channel,
    case
        when
            sms_rank > {{ var('sms_frequency_cap_messages') }} - sms_sends_in_period
            then 'sms_frequency_cap'
        else substring(decision, position(':' in decision) + 1)
    end as channel_reason,
    phone_e164,
    email_sent_at,
    email_opened_at,
    sms_sent_at,
    sms_sends_in_period
from ranked
