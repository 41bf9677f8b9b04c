-- Nobody is channel sms without SMS consent, with a missing or invalid phone,
-- inside quiet hours, with an unknown time zone, or over the SMS frequency cap
-- (counting the SMS already sent in the period plus the sms rows of this
-- build), and no trigger (person, audience) has two channels. Checked from
-- staging and the seeds, independently of sms_contact_policy, for every row of
-- int_audience_channels_decided (what every channel-aware audience reads).

with

decided as (
    select
        person_id,
        audience,
        channel
    from {{ ref('int_audience_channels_decided') }}
),

sms_rows as (
    select * from decided
    where channel = 'sms'
),

phones as (
    select
        customer_id,
        phone_e164,
        country
    from {{ ref('stg_shop__customers') }}
),

latest_sms_consent as (
    select
        customer_id,
        status
    from (
        select
            customer_id,
            status,
            row_number() over (
                partition by customer_id
                order by
                    changed_at desc,
                    case status when 'subscribed' then 2 else 1 end,
                    consent_id desc
            ) as change_rank
        from {{ ref('stg_shop__consents') }}
        where channel = 'sms' and changed_at <= {{ as_of_ts() }}
    ) as ranked
    where change_rank = 1
),

time_zones as (
    select
        country,
        time_zone
    from {{ ref('country_time_zones') }}
),

sends as (
    select
        person_id,
        count(*) as sends_in_period
    from {{ ref('stg_activations__sms_sends') }}
    where
        sent_at <= {{ as_of_ts() }}
        and sent_at > {{ dbt.dateadd('day', '-' ~ var('sms_frequency_cap_days'), as_of_ts()) }}
    group by person_id
),

sms_rows_per_person as (
    select
        person_id,
        count(*) as sms_rows
    from sms_rows
    group by person_id
),

violations as (
    select
        sms_rows.person_id,
        sms_rows.audience,
        case
            when phones.phone_e164 is null then 'sms without a valid phone'
            when coalesce(latest_sms_consent.status, 'none') <> 'subscribed'
                then 'sms without sms consent'
            when time_zones.time_zone is null then 'sms with an unknown time zone'
            when
                {{ in_quiet_hours(local_hour(as_of_ts(), 'time_zones.time_zone')) }}
                then 'sms inside quiet hours'
            when
                coalesce(sends.sends_in_period, 0) + sms_rows_per_person.sms_rows
                > {{ var('sms_frequency_cap_messages') }}
                then 'sms over the sms frequency cap'
        end as violation
    from sms_rows
    left join phones
        on sms_rows.person_id = phones.customer_id
    left join latest_sms_consent
        on sms_rows.person_id = latest_sms_consent.customer_id
    left join time_zones
        on phones.country = time_zones.country
    left join sends
        on sms_rows.person_id = sends.person_id
    left join sms_rows_per_person
        on sms_rows.person_id = sms_rows_per_person.person_id

    union all

    select
        person_id,
        audience,
        'two channel decisions for one trigger' as violation
    from decided
    group by person_id, audience
    having count(*) > 1
)

select * from violations
where violation is not null
