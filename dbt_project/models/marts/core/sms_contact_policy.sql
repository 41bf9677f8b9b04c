-- Marketing SMS for every customer, as of as_of: a channel of its own, never
-- derived from email consent. One row per customer. The first rule that
-- applies gives the reason (null: may be sent an SMS now):
--   1. the phone: missing_phone (none typed) | invalid_phone (typed, but
--      phonenumbers could not make it E.164: see phone_invalid_reason);
--   2. consent (consent log, channel sms; latest change up to as_of wins, on
--      a tie the withdrawal): sms_unsubscribed (any status but subscribed
--      after a subscription) | sms_no_consent (never subscribed);
--   3. sms_unknown_time_zone: the country has no row in seeds/country_time_zones;
--   4. sms_quiet_hours: as_of falls in var sms_quiet_hours on the person's
--      local clock;
--   5. sms_frequency_cap: at least var sms_frequency_cap_messages SMS confirmed
--      by an SMS sync in the rolling var sms_frequency_cap_days before as_of.
-- can_sms_marketing is rules 1-2 only (phone and consent, as can_email_marketing);
-- is_sms_sendable is all five. quiet_hours_start/end carry the window to the
-- sync engine, which checks it again on the local clock when it sends. int_audience_channels_decided applies it per
-- audience row (with the cap shared between audiences by priority).

with

customers as (
    select
        customer_id,
        phone_e164,
        phone_invalid_reason,
        country
    from {{ ref('stg_shop__customers') }}
),

time_zones as (
    select
        country,
        time_zone
    from {{ ref('country_time_zones') }}
),

ranked_consents as (
    select
        customer_id,
        status,
        changed_at,
        row_number() over (
            partition by customer_id
            order by
                changed_at desc,
                case status when 'subscribed' then 2 else 1 end,
                consent_id desc
        ) as change_rank
    from {{ ref('stg_shop__consents') }}
    where
        channel = 'sms'
        and customer_id is not null
        and changed_at <= {{ as_of_ts() }}
),

latest_consents as (
    select * from ranked_consents
    where change_rank = 1
),

sms_sends as (
    select
        person_id,
        count(*) as sends_in_period
    from {{ ref('stg_activations__sms_sends') }}
    where
        sent_at <= {{ as_of_ts() }}
        and sent_at > {{ dbt.dateadd('day', '-' ~ var('sms_frequency_cap_days'), as_of_ts()) }}
    group by person_id
),

joined as (
    select
        customers.customer_id as person_id,
        customers.phone_e164,
        customers.phone_invalid_reason,
        customers.country,
        time_zones.time_zone,
        coalesce(latest_consents.status, 'none') as sms_consent_status,
        latest_consents.changed_at as sms_consent_changed_at,
        case
            when time_zones.time_zone is not null
                then {{ local_hour(as_of_ts(), 'time_zones.time_zone') }}
        end as local_hour,
        coalesce(sms_sends.sends_in_period, 0) as sms_sends_in_period
    from customers
    left join time_zones
        on customers.country = time_zones.country
    left join latest_consents
        on customers.customer_id = latest_consents.customer_id
    left join sms_sends
        on customers.customer_id = sms_sends.person_id
),

reasoned as (
    select
        joined.*,
        coalesce({{ in_quiet_hours('joined.local_hour') }}, false) as is_quiet_hours,
        case
            when joined.phone_invalid_reason = 'missing' then 'missing_phone'
            when joined.phone_e164 is null then 'invalid_phone'
            when joined.sms_consent_status = 'none' then 'sms_no_consent'
            when joined.sms_consent_status <> 'subscribed' then 'sms_unsubscribed'
        end as consent_reason
    from joined
),

decided as (
    select
        reasoned.*,
        case
            when reasoned.consent_reason is not null then reasoned.consent_reason
            when reasoned.time_zone is null then 'sms_unknown_time_zone'
            when reasoned.is_quiet_hours then 'sms_quiet_hours'
            when
                reasoned.sms_sends_in_period >= {{ var('sms_frequency_cap_messages') }}
                then 'sms_frequency_cap'
        end as reason
    from reasoned
)

select
    person_id,
    phone_e164,
    phone_invalid_reason,
    country,
    time_zone,
    sms_consent_status,
    sms_consent_changed_at,
    local_hour,
    is_quiet_hours,
    cast({{ var('sms_quiet_hours')['start'] | int }} as integer) as quiet_hours_start,
    cast({{ var('sms_quiet_hours')['end'] | int }} as integer) as quiet_hours_end,
    sms_sends_in_period,
    consent_reason is null as can_sms_marketing,
    reason is null as is_sms_sendable,
    reason
from decided
