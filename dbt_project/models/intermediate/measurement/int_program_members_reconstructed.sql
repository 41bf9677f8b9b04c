{#- Who entered each program, and when, reconstructed from history: one row
    per person and program, entered at the first email the program sent them
    or, for people in its control group, the first 'held_out' event (the ESP's
    record that the trigger fired and no email went out).
    Audience tables are snapshots "as of" now, so past membership is taken
    from the email events. The control flag is the deterministic hash of person and
    program (metrics_hash_bucket) below var lift_control_share, the same kind of
    hold-out the contact policy applies; see _metrics__models.yml for what that
    means on data where the control group really was held out. -#}
{%- set control_share = var('lift_control_share', 0.1) -%}

with

sends as (
    select
        events.customer_id as person_id,
        campaigns.program,
        min(events.occurred_at) as entered_at
    from {{ ref('stg_esp__email_events') }} as events
    inner join {{ ref('stg_esp__campaigns') }} as campaigns
        on events.campaign_id = campaigns.campaign_id
    where
        events.event_type in ('sent', 'held_out')
        and events.customer_id is not null
        and campaigns.program is not null
    group by events.customer_id, campaigns.program
),

shares as (
    select
        audience as program,  -- noqa: RF04
        cast(control_share as double precision) as control_share
    from {{ ref('audience_policies') }}
    where channel = 'email'
)

select
    sends.person_id,
    sends.program,
    sends.entered_at,
    {{ control_bucket('sends.person_id', 'sends.program') }}
    < coalesce(
        shares.control_share, {{ var('lift_default_control_share', 0.1) }}
    )
    * 65536 as is_control
from sends
left join shares on sends.program = shares.program
