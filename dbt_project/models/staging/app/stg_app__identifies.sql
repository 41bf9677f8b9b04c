with

source as (

    select * from {{ source('app', 'identifies') }}

),

renamed as (

    select

        ---------- ids
        message_id as identify_id,
        user_id as customer_id,
        anonymous_id,

        ---------- strings
        {{ normalize_email(json_text('traits', 'email')) }} as email,

        ---------- timestamps
        cast({{ adapter.quote("timestamp") }} as timestamp) as identified_at  -- noqa: RF06

    from source

)

select * from renamed
