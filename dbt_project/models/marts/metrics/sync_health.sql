{#- Sync health by day and sync, from the sync engine's state tables (source
    activations): runs (dry runs left out) by outcome, records planned, sent,
    delivered (confirmed by the provider) and rejected, run time, and the
    latency from audience entry to delivery: changelog deliveries (added,
    changed, sent) joined to the person's entered_at in the audience the sync
    reads, as its latest run recorded it (sync_runs.audience), and latency is
    measured for people still in that audience (runs recorded before the
    audience column existed are not timed). Sync runs are operational
    history: they are not cut at as_of. The state tables exist only
    once a sync has run: until then this model is empty, with the same
    columns, so `dbt build` works on a fresh warehouse. -#}
{%- set runs_source = source('activations', 'sync_runs') -%}
{%- set changelog_source = source('activations', 'sync_changelog') -%}
{%- set memberships = ref('int_audience_memberships_decided') -%}
{%- set runs_relation = existing_relation(runs_source) -%}
{%- set changelog_relation = existing_relation(changelog_source) -%}

{%- set runs_have_audience = relation_has_column(runs_relation, 'audience') -%}

{%- if runs_relation is none or changelog_relation is none %}

    select
        cast(null as date) as day,  -- noqa: RF04
        cast(null as {{ dbt.type_string() }}) as sync_name,
        cast(null as {{ dbt.type_int() }}) as runs,
        cast(null as {{ dbt.type_int() }}) as succeeded_runs,
        cast(null as {{ dbt.type_int() }}) as failed_runs,
        cast(null as {{ dbt.type_int() }}) as blocked_runs,
        cast(null as {{ dbt.type_int() }}) as interrupted_runs,
        cast(null as {{ dbt.type_bigint() }}) as records_planned,
        cast(null as {{ dbt.type_bigint() }}) as records_sent,
        cast(null as {{ dbt.type_bigint() }}) as records_delivered,
        cast(null as {{ dbt.type_bigint() }}) as records_rejected,
        cast(null as decimal(12, 2)) as average_run_seconds,
        cast(null as {{ dbt.type_bigint() }}) as deliveries_timed,
        cast(null as decimal(12, 2)) as average_entry_to_delivery_minutes,
        cast(null as decimal(12, 2)) as median_entry_to_delivery_minutes
    where 1 = 0

{%- else %}

with

runs as (
    select
        cast(started_at as date) as day,  -- noqa: RF04
        sync_name,
        status,
        planned,
        sent,
        confirmed,
        rejected,
        duration_s
    from {{ runs_source }}
    where status <> 'dry_run'
),

daily_runs as (
    select
        day,
        sync_name,
        cast(count(*) as {{ dbt.type_int() }}) as runs,
        cast(sum(case when status = 'succeeded' then 1 else 0 end) as {{ dbt.type_int() }})
            as succeeded_runs,
        cast(sum(case when status = 'failed' then 1 else 0 end) as {{ dbt.type_int() }})
            as failed_runs,
        cast(sum(case when status = 'blocked' then 1 else 0 end) as {{ dbt.type_int() }})
            as blocked_runs,
        cast(sum(case when status = 'interrupted' then 1 else 0 end) as {{ dbt.type_int() }})
            as interrupted_runs,
        cast(sum(planned) as {{ dbt.type_bigint() }}) as records_planned,
        cast(sum(sent) as {{ dbt.type_bigint() }}) as records_sent,
        cast(sum(confirmed) as {{ dbt.type_bigint() }}) as records_delivered,
        cast(sum(rejected) as {{ dbt.type_bigint() }}) as records_rejected,
        avg(duration_s) as average_run_seconds
    from runs
    group by day, sync_name
),

-- each sync's audience, as its latest run that recorded one says
sync_audiences as (
    {%- if not runs_have_audience %}
    -- state written before runs recorded their audience: nothing to time yet
    select
        cast(null as {{ dbt.type_string() }}) as sync_name,
        cast(null as {{ dbt.type_string() }}) as audience
    where 1 = 0
    {%- else %}
    select sync_name, audience
    from (
        select
            sync_name,
            audience,
            row_number() over (
                partition by sync_name order by started_at desc
            ) as recency_rank
        from {{ runs_source }}
        where audience is not null
    ) as recorded
    where recency_rank = 1
    {%- endif %}
),

deliveries as (
    select
        cast(changelog.changed_at as date) as day,  -- noqa: RF04
        changelog.sync_name,
        {{ dbt.datediff('members.entered_at', 'changelog.changed_at', 'second') }} / 60.0
            as latency_minutes
    from {{ changelog_source }} as changelog
    inner join sync_audiences on changelog.sync_name = sync_audiences.sync_name
    inner join {{ memberships }} as members
        on
            members.audience = sync_audiences.audience
            and members.person_id = changelog.record_key
    where
        changelog.action in ('added', 'changed', 'sent')
        and changelog.changed_at >= members.entered_at
),

daily_latency as (
    select
        day,
        sync_name,
        count(*) as deliveries_timed,
        avg(latency_minutes) as average_latency,
        percentile_cont(0.5) within group (order by latency_minutes) as median_latency
    from deliveries
    group by day, sync_name
)

select
    daily_runs.day,
    daily_runs.sync_name,
    daily_runs.runs,
    daily_runs.succeeded_runs,
    daily_runs.failed_runs,
    daily_runs.blocked_runs,
    daily_runs.interrupted_runs,
    daily_runs.records_planned,
    daily_runs.records_sent,
    daily_runs.records_delivered,
    daily_runs.records_rejected,
    cast(daily_runs.average_run_seconds as decimal(12, 2)) as average_run_seconds,
    coalesce(daily_latency.deliveries_timed, 0) as deliveries_timed,
    cast(daily_latency.average_latency as decimal(12, 2))
        as average_entry_to_delivery_minutes,
    cast(daily_latency.median_latency as decimal(12, 2))
        as median_entry_to_delivery_minutes
from daily_runs
left join daily_latency
    on
        daily_runs.day = daily_latency.day
        and daily_runs.sync_name = daily_latency.sync_name

{%- endif %}
