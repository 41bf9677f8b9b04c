with

source as (

    select * from {{ source('shop', 'consents') }}

),

renamed as (

    select

        ---------- ids
        consent_id,
        customer_id,

        ---------- strings
        {{ normalize_email('email') }} as email,
        channel,
        status,
        source,

        ---------- timestamps
        cast(
            double_opt_in_confirmed_at as timestamp
        ) as double_opt_in_confirmed_at,
        cast(changed_at as timestamp) as changed_at

    from source

)

select * from renamed
