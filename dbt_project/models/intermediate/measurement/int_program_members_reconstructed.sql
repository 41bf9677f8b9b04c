{#- Who entered each program, and when, and in which group: one row per person
    and program. Two sources, no hash reassignment:
    (a) the product's own decisions (audience_membership_log): control = the
        log's was_held_out (is_control, and consent would have let them be
        sent: held out in the warehouse, never synced, so the ESP never sees
        them); treated = was_sendable and not control. This is
        intention-to-treat: a sendable person counts as treated whether or not
        the ESP then delivered, so it needs no ESP data and a send that failed
        dilutes the lift instead of biasing it. Entries neither sendable nor
        control (no consent, cooldown, frequency cap...) are in neither group.
    (b) ESP history, for periods before the log existed: the first 'sent'
        email of the program = treated, the first 'held_out' event = control
        (an ESP-recorded hold-out: the generator's, or a provider that reports
        control enrolment).
    The entry that counts is the person's earliest in the program (on a tie:
    the log's, then the hold-out); the person is control when that entry was a
    hold-out. A program with no control members (e.g. the newsletter, sent to
    every subscriber) has no control group: program_lift says so instead of
    inventing one. -#}

with

logged as (
    select
        person_id,
        audience as program,  -- noqa: RF04
        entered_at,
        was_held_out as is_control,
        0 as source_rank
    from {{ ref('audience_membership_log') }}
    where was_held_out or was_sendable
),

esp as (
    select
        events.customer_id as person_id,
        campaigns.program,
        events.event_type = 'held_out' as is_control,
        min(events.occurred_at) as entered_at
    from {{ ref('stg_esp__email_events') }} as events
    inner join {{ ref('stg_esp__campaigns') }} as campaigns
        on events.campaign_id = campaigns.campaign_id
    where
        events.event_type in ('sent', 'held_out')
        and events.customer_id is not null
        and campaigns.program is not null
    group by events.customer_id, campaigns.program, events.event_type
),

entries as (
    select
        person_id,
        program,
        entered_at,
        is_control,
        source_rank
    from logged
    union all
    select
        person_id,
        program,
        entered_at,
        is_control,
        1 as source_rank
    from esp
),

ranked as (
    select
        entries.*,
        row_number() over (
            partition by entries.person_id, entries.program
            order by
                entries.entered_at,
                entries.source_rank,
                case when entries.is_control then 0 else 1 end
        ) as entry_rank
    from entries
)

select
    person_id,
    program,
    entered_at,
    is_control
from ranked
where entry_rank = 1
