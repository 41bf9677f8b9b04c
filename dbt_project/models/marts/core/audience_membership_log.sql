{{
    config(
        materialized='incremental',
        incremental_strategy=incremental_strategy(),
        unique_key=['person_id', 'audience', 'entered_at'],
        full_refresh=false,
        on_schema_change='append_new_columns'
    )
}}
{#- The product's own audience decisions, kept over time: every build adds
    this build's rows of int_audience_memberships_decided (one per person,
    audience and entry). An entry already in the log keeps its first decision
    (first_decided_at, is_control) and accumulates was_sendable (sendable at
    any build of that entry) and was_held_out (held out by the control group,
    consent allowing, at any build); decided_at, is_sendable and suppression_reason
    are the latest build's. full_refresh=false: the log is history that
    cannot be rebuilt from the warehouse, so `dbt build --full-refresh` leaves
    it alone. On Spark (plain parquet tables append only) a build adds the
    entries not logged yet; updating a logged entry needs merge (Delta Lake or
    Iceberg tables, README "Spark"). Lift in production (program_lift) reads control people from
    here, so the log must run on the audiences' cadence. -#}

with

decided as (
    select
        person_id,
        audience,
        email,
        entered_at,
        is_control,
        is_sendable,
        suppression_reason,
        {{ as_of_ts() }} as decided_at
    from {{ ref('int_audience_memberships_decided') }}
)

{% if is_incremental() %}

    select
        decided.person_id,
        decided.audience,
        decided.email,
        decided.entered_at,
        coalesce(logged.is_control, decided.is_control) as is_control,
        decided.is_sendable,
        coalesce(logged.was_sendable, false)
        or (decided.is_sendable and not coalesce(logged.is_control, false))
            as was_sendable,
        coalesce(logged.was_held_out, false)
        or (
            coalesce(logged.is_control, decided.is_control)
            and decided.suppression_reason = 'control_group'
        ) as was_held_out,
        decided.suppression_reason,
        coalesce(logged.first_decided_at, decided.decided_at)
            as first_decided_at,
        decided.decided_at
    from decided
    left join {{ this }} as logged
        on
            decided.person_id = logged.person_id
            and decided.audience = logged.audience
            and decided.entered_at = logged.entered_at
    {%- if incremental_strategy() == 'append' %}
    where logged.person_id is null
    {%- endif %}

{% else %}

    select
        person_id,
        audience,
        email,
        entered_at,
        is_control,
        is_sendable,
        is_sendable as was_sendable,
        coalesce(is_control and suppression_reason = 'control_group', false)
            as was_held_out,
        suppression_reason,
        decided_at as first_decided_at,
        decided_at
    from decided

{% endif %}
