with

source as (

    select * from {{ source('shop', 'customers') }}

),

renamed as (

    select

        ---------- ids
        customer_id,

        ---------- strings
        {{ normalize_email('email') }} as email,
        trim(phone) as phone,
        trim(first_name) as first_name,
        trim(last_name) as last_name,
        upper(trim(country)) as country,

        ---------- booleans
        {{ is_valid_email(normalize_email('email')) }} as email_is_valid,

        ---------- dates
        cast(birth_date as date) as birth_date,
        cast(created_at as timestamp) as created_at

    from source

)

select * from renamed
