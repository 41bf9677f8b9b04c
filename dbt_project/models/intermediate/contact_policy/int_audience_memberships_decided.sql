{{ config(materialized='table') }}
-- The contact policy, decided once for every audience (a table: each audience
-- mart joins it). One row per person and audience. The first rule that applies
-- gives the suppression_reason:
--   0. missing_email: the person has no email (no contact_policy row), e.g.
--      historical imports; kept visible to analysts, never sendable, in every
--      channel;
--   1. consent (contact_policy): email audiences need can_email_marketing;
--      on-site audiences are only stopped by unsubscribed, hard bounce, spam
--      complaint and an invalid email;
--   2. control_group: control_bucket(person, audience) < control_share * 65536;
--   3. already_sent (once_ever audiences): a message of this program was sent
--      at or after this entry's entered_at;
--   4. cooldown: a message of this program was sent in the last cooldown_days;
--   5. lower_priority_audience: the person is in the audience named by
--      suppressed_by, or was sent a message of it on the as_of day;
--   6. frequency cap (audiences with counts_toward_cap): slots = cap - counted
--      sends in the rolling frequency_cap_days; none left -> frequency_cap; the
--      remaining rows of the person are ranked by priority (then audience name)
--      and those beyond the slots -> lower_priority_audience.
-- is_sendable = no reason. Control people are never sendable.

with

candidates as (
    select
        person_id,
        audience,
        entered_at
    from {{ ref('int_audience_candidates_unioned') }}
),

contacts as (
    select
        person_id,
        email,
        can_email_marketing,
        reason
    from {{ ref('contact_policy') }}
),

policies as (
    select
        audience,
        channel,
        priority,
        coalesce(cooldown_days, 0) as cooldown_days,
        coalesce(control_share, 0) as control_share,
        coalesce(counts_toward_cap, true) as counts_toward_cap,
        coalesce(once_ever, false) as once_ever,
        suppressed_by
    from {{ ref('audience_policies') }}
),

sends as (
    select
        person_id,
        program,
        sent_at
    from {{ ref('int_email_sends_attributed') }}
),

counted_sends as (
    select
        sends.person_id,
        count(*) as sends_in_period
    from sends
    left join policies
        on sends.program = policies.audience
    where
        coalesce(policies.counts_toward_cap, true)
        and sends.sent_at > {{ dbt.dateadd('day', '-' ~ var('frequency_cap_days'), as_of_ts()) }}
    group by sends.person_id
),

joined as (
    select
        candidates.person_id,
        candidates.audience,
        candidates.entered_at,
        contacts.email,
        contacts.person_id is null as is_missing_email,
        coalesce(contacts.can_email_marketing, false) as can_email_marketing,
        contacts.reason as consent_reason,
        coalesce(policies.channel, 'email') as channel,
        coalesce(policies.priority, 999) as priority,
        coalesce(policies.cooldown_days, 0) as cooldown_days,
        coalesce(policies.control_share, 0) as control_share,
        coalesce(policies.counts_toward_cap, true) as counts_toward_cap,
        coalesce(policies.once_ever, false) as once_ever,
        policies.suppressed_by,
        {{ control_bucket('candidates.person_id', 'candidates.audience') }} as control_bucket
    from candidates
    left join contacts
        on candidates.person_id = contacts.person_id
    left join policies
        on candidates.audience = policies.audience
),

flagged as (
    select
        joined.*,
        joined.control_bucket < joined.control_share * 65536 as is_control,
        exists(
            select 1 from sends
            where
                sends.person_id = joined.person_id
                and sends.program = joined.audience
                and sends.sent_at >= joined.entered_at
        ) as was_sent_this_entry,
        exists(
            select 1 from sends
            where
                sends.person_id = joined.person_id
                and sends.program = joined.audience
                and sends.sent_at > {{ dbt.dateadd('day', '-1 * joined.cooldown_days', as_of_ts()) }}
        ) as was_sent_in_cooldown,
        exists (
            select 1 from candidates as other
            where
                other.person_id = joined.person_id
                and other.audience = joined.suppressed_by
        )
        or exists (
            select 1 from sends
            where
                sends.person_id = joined.person_id
                and sends.program = joined.suppressed_by
                and cast(sends.sent_at as date) = {{ as_of_date() }}
        ) as is_suppressed_by_other
    from joined
),

reasoned as (
    select
        flagged.*,
        case
            when flagged.is_missing_email then 'missing_email'
            when
                flagged.channel = 'onsite'
                and flagged.consent_reason in (
                    'unsubscribed',
                    'hard_bounce',
                    'spam_complaint',
                    'invalid_email'
                )
                then flagged.consent_reason
            when
                flagged.channel <> 'onsite'
                and not flagged.can_email_marketing
                then flagged.consent_reason
            when flagged.is_control then 'control_group'
            when flagged.once_ever and flagged.was_sent_this_entry then 'already_sent'
            when
                flagged.cooldown_days > 0 and flagged.was_sent_in_cooldown
                then 'cooldown'
            when flagged.is_suppressed_by_other then 'lower_priority_audience'
        end as policy_reason
    from flagged
),

capped as (
    select
        reasoned.*,
        coalesce(counted_sends.sends_in_period, 0) as sends_in_period,
        case
            when reasoned.policy_reason is null and reasoned.counts_toward_cap
                then row_number() over (
                        partition by
                            reasoned.person_id,
                            reasoned.policy_reason is null and reasoned.counts_toward_cap
                        order by reasoned.priority, reasoned.audience
                    )
        end as cap_rank
    from reasoned
    left join counted_sends
        on reasoned.person_id = counted_sends.person_id
)

select
    person_id,
    audience,
    email,
    entered_at,
    priority,
    is_control,
    control_bucket,
    sends_in_period,
    cap_rank,
    reason is null as is_sendable,
    reason as suppression_reason
from (
    select
        capped.*,
        case
            when capped.policy_reason is not null then capped.policy_reason
            when capped.cap_rank is null then null
            when
                capped.sends_in_period >= {{ var('frequency_cap_messages') }}
                then 'frequency_cap'
            when
                capped.cap_rank
                > {{ var('frequency_cap_messages') }} - capped.sends_in_period
                then 'lower_priority_audience'
        end as reason
    from capped
) as decided
