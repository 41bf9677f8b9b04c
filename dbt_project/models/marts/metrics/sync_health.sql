{#- Sync health by day and sync, from the sync engine's state tables (schema
    activations): runs and failed runs, records planned, delivered (confirmed
    by the provider) and rejected, run time, and latency from audience entry to
    delivery (minutes, from the changelog joined to the audience snapshot).
    The state tables exist only once a sync has run: until then this model is
    empty (with the same columns), so `dbt build` works on a fresh warehouse. -#}
{%- set runs_source = source('activations', 'sync_runs') -%}
{%- set changelog_source = source('activations', 'sync_changelog') -%}
{%- set runs = adapter.get_relation(
    database=runs_source.database,
    schema=runs_source.schema,
    identifier=runs_source.identifier,
) if execute else none -%}
{%- set changelog = adapter.get_relation(
    database=changelog_source.database,
    schema=changelog_source.schema,
    identifier=changelog_source.identifier,
) if execute else none -%}

{%- if runs is none %}

select
    cast(null as date) as day,
    cast(null as {{ dbt.type_string() }}) as sync_name,
    cast(null as {{ dbt.type_int() }}) as runs,
    cast(null as {{ dbt.type_int() }}) as failed_runs,
    cast(null as {{ dbt.type_bigint() }}) as records_planned,
    cast(null as {{ dbt.type_bigint() }}) as records_delivered,
    cast(null as {{ dbt.type_bigint() }}) as records_rejected,
    cast(null as decimal(12, 2)) as average_run_seconds,
    cast(null as decimal(12, 2)) as average_entry_to_delivery_minutes
where 1 = 0

{%- else %}
{%- set c = metrics_columns(runs) -%}

with

runs as (
    select
        cast({{ metrics_pick(c, ['started_at', 'start_at', 'started']) }} as date) as day,
        {{ metrics_pick(c, ['sync_name', 'sync', 'name', 'sync_id']) }} as sync_name,
        {{ metrics_pick(c, ['status', 'state']) }} as status,
        {{ metrics_pick(c, ['planned', 'records_planned', 'planned_count', 'n_planned'], '0') }} as planned,
        {{ metrics_pick(c, ['confirmed', 'records_confirmed', 'confirmed_count', 'n_confirmed', 'sent'], '0') }} as delivered,
        {{ metrics_pick(c, ['rejected', 'records_rejected', 'rejected_count', 'n_rejected'], '0') }} as rejected,
        {{ dbt.datediff(
            metrics_pick(c, ['started_at', 'start_at', 'started']),
            metrics_pick(c, ['finished_at', 'ended_at', 'end_at', 'finished']),
            'second') }} as run_seconds
    from {{ runs_source }}
),

daily as (
    select
        day,
        cast(sync_name as {{ dbt.type_string() }}) as sync_name,
        count(*) as runs,
        sum(case when lower(cast(status as {{ dbt.type_string() }})) in ('failed', 'error', 'crashed', 'aborted') then 1 else 0 end)
            as failed_runs,
        sum(coalesce(planned, 0)) as records_planned,
        sum(coalesce(delivered, 0)) as records_delivered,
        sum(coalesce(rejected, 0)) as records_rejected,
        avg(run_seconds) as average_run_seconds
    from runs
    group by day, cast(sync_name as {{ dbt.type_string() }})
)

select
    day,
    sync_name,
    runs,
    failed_runs,
    records_planned,
    records_delivered,
    records_rejected,
    cast(average_run_seconds as decimal(12, 2)) as average_run_seconds,
    cast(null as decimal(12, 2)) as average_entry_to_delivery_minutes
from daily

{%- endif %}
