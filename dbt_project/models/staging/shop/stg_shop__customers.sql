with

source as (

    select * from {{ source('shop', 'customers') }}

),

-- E.164 of each (phone as typed, country) pair, written by the build's Python
-- step (activations/warehouse/phones.py: SQL cannot call libphonenumber); the
-- one join of staging, on the source's own key, so every customer keeps a row
phone_numbers as (

    select
        phone_raw,
        country,
        max(phone_e164) as phone_e164,
        max(invalid_reason) as invalid_reason
    from {{ source('shop', 'phone_numbers') }}
    group by phone_raw, country

),

renamed as (

    select

        ---------- ids
        source.customer_id,

        ---------- strings
        {{ normalize_email('source.email') }} as email,
        trim(source.phone) as phone,
        phone_numbers.phone_e164,
        case
            when nullif(trim(source.phone), '') is null then 'missing'
            when phone_numbers.phone_raw is null then 'not_normalised'
            else phone_numbers.invalid_reason
        end as phone_invalid_reason,
        trim(source.first_name) as first_name,
        trim(source.last_name) as last_name,
        upper(trim(source.country)) as country,

        ---------- booleans
        {{ is_valid_email(normalize_email('source.email')) }} as email_is_valid,

        ---------- dates
        cast(source.birth_date as date) as birth_date,
        cast(source.created_at as timestamp) as created_at

    from source
    left join phone_numbers
        on
            source.phone = phone_numbers.phone_raw
            and coalesce(source.country, '')
            = coalesce(phone_numbers.country, '')

)

select * from renamed
