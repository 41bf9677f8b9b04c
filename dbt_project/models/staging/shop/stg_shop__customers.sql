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
        customer_id,

        ---------- strings
        {{ normalize_email('email') }} as email,
        trim(source.phone) as phone,
        phone_numbers.phone_e164,
        case
            when nullif(trim(source.phone), '') is null then 'missing'
            when phone_numbers.phone_raw is null then 'not_normalised'
            else phone_numbers.invalid_reason
        end as phone_invalid_reason,
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        upper(trim(source.country)) as country,

        ---------- booleans
        {{ is_valid_email(normalize_email('email')) }} as email_is_valid,

        ---------- dates
        cast(birth_date as date) as birth_date,
        cast(created_at as timestamp) as created_at

    from source
    left join phone_numbers
        on
            source.phone = phone_numbers.phone_raw
            and coalesce(source.country, '') = coalesce(phone_numbers.country, '')

)

select * from renamed
