{#- The SMS the sync engine really sent: one row per record an SMS provider
    confirmed (sync_changelog actions added, changed and sent: a new member,
    an update, an event), for syncs whose run named a provider of var
    sms_providers (sync_runs.provider), with the audience the run read. The
    person is the record key (SMS syncs use identity person_id). What the SMS
    frequency cap counts and what flow metrics call reached by SMS. The
    engine's tables exist once a sync has run: until then this view is empty,
    with the same columns. Joins the run to its changelog rows: the two
    tables are one event of the source (a run and what it confirmed). -#}
{%- set runs_source = source('activations', 'sync_runs') -%}
{%- set changelog_source = source('activations', 'sync_changelog') -%}
{%- set runs_relation = existing_relation(runs_source) -%}
{%- set changelog_relation = existing_relation(changelog_source) -%}
{%- set runs_have_audience = relation_has_column(runs_relation, 'audience') -%}

{%- if runs_relation is none or changelog_relation is none or not runs_have_audience %}

    select
        cast(null as {{ dbt.type_string() }}) as run_id,
        cast(null as {{ dbt.type_string() }}) as sync_name,
        cast(null as {{ dbt.type_string() }}) as provider,  -- noqa: RF04
        cast(null as {{ dbt.type_string() }}) as audience,
        cast(null as {{ dbt.type_string() }}) as person_id,
        cast(null as {{ dbt.type_string() }}) as action,  -- noqa: RF04
        cast(null as {{ dbt.type_timestamp() }}) as sent_at
    where 1 = 0

{%- else %}

with

runs as (

    select * from {{ runs_source }}

),

changelog as (

    select * from {{ changelog_source }}

),

renamed as (

    select

        ---------- ids
        changelog.run_id,
        changelog.sync_name,
        runs.provider,
        runs.audience,
        changelog.record_key as person_id,

        ---------- strings
        changelog.action,

        ---------- timestamps
        cast(changelog.changed_at as {{ dbt.type_timestamp() }}) as sent_at

    from changelog
    inner join runs
        on changelog.run_id = runs.run_id
    where
        changelog.action in ('added', 'changed', 'sent')
        and runs.provider in (
            {%- for provider in var('sms_providers') %}
                '{{ provider }}'{% if not loop.last %},{% endif %}
            {%- endfor %}
        )

)

select * from renamed

{%- endif %}
