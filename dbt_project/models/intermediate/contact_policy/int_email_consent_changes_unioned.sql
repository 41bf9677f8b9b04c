-- Every change of a person's marketing-email consent up to as_of, from two
-- origins: the shop's consent log (channel 'email') and the ESP's feedback
-- (unsubscribe, spam complaint, hard bounce events). A change belongs to the
-- customer it names and to every customer whose current email is the address
-- it names (suppression is per address as well as per person).

with

customers as (
    select
        customer_id,
        email
    from {{ ref('customers') }}
),

consent_log as (
    select
        customer_id,
        email,
        status,
        double_opt_in_confirmed_at,
        changed_at,
        'consent_log' as origin
    from {{ ref('stg_shop__consents') }}
    where
        channel = 'email'
        and changed_at <= {{ as_of_ts() }}
),

esp_feedback as (
    select
        customer_id,
        email,
        case
            when event_type = 'unsubscribed' then 'unsubscribed'
            when event_type = 'spam' then 'spam_complaint'
            else 'bounced'
        end as status,
        cast(null as {{ dbt.type_timestamp() }}) as double_opt_in_confirmed_at,
        occurred_at as changed_at,
        'esp_event' as origin
    from {{ ref('stg_esp__email_events') }}
    where
        (
            event_type in ('unsubscribed', 'spam')
            or (event_type = 'bounced' and bounce_type = 'hard')
        )
        and occurred_at <= {{ as_of_ts() }}
),

changes as (
    select * from consent_log
    union all
    select * from esp_feedback
),

by_customer_id as (
    select
        customers.customer_id as person_id,
        changes.status,
        changes.double_opt_in_confirmed_at,
        changes.changed_at,
        changes.origin
    from changes
    inner join customers
        on changes.customer_id = customers.customer_id
),

by_address as (
    select
        customers.customer_id as person_id,
        changes.status,
        changes.double_opt_in_confirmed_at,
        changes.changed_at,
        changes.origin
    from changes
    inner join customers
        on changes.email = customers.email
    where changes.customer_id is null or changes.customer_id <> customers.customer_id
)

select * from by_customer_id
union all
select * from by_address
