{#- The coupon codes the sync engine gave out, one per person and campaign
    (activations/coupons: the ledger activations.coupon_assignments). The
    ledger exists once a sync first gave out codes: until then this view is
    empty, with the same columns, so `dbt build` works on a fresh warehouse
    (the next build after that first sync reads the ledger). -#}
{%- set ledger_source = source('activations', 'coupon_assignments') -%}
{%- set ledger_relation = existing_relation(ledger_source) -%}

with

source as (

    {%- if ledger_relation is none %}

        select
            cast(null as {{ dbt.type_string() }}) as campaign,
            cast(null as {{ dbt.type_string() }}) as person_id,
            cast(null as {{ dbt.type_string() }}) as code,
            cast(null as {{ dbt.type_string() }}) as source,  -- noqa: RF04
            cast(null as decimal(12, 2)) as value,  -- noqa: RF04
            cast(null as {{ dbt.type_string() }}) as value_type,
            cast(null as {{ dbt.type_timestamp() }}) as expires_at,
            cast(null as {{ dbt.type_timestamp() }}) as assigned_at,
            cast(null as {{ dbt.type_string() }}) as sync_name,
            cast(null as {{ dbt.type_string() }}) as audience,
            cast(null as {{ dbt.type_string() }}) as run_id
        where 1 = 0

    {%- else %}

        select * from {{ ledger_source }}

    {%- endif %}

),

renamed as (

    select

        ---------- ids
        code as coupon_code,
        person_id as customer_id,
        campaign as coupon_campaign,
        run_id as sync_run_id,

        ---------- strings
        source as coupon_source,
        value_type,
        sync_name,
        audience,

        ---------- numerics
        cast(value as decimal(12, 2)) as coupon_value,

        ---------- timestamps
        cast(assigned_at as timestamp) as assigned_at,
        cast(expires_at as timestamp) as expires_at

    from source

)

select * from renamed
