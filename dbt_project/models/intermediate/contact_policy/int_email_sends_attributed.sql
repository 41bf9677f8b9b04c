-- Marketing emails really sent (email_events 'sent') up to as_of, attributed to
-- a person (the event's customer_id, else the customer with that address) and
-- to the program of their campaign (= the audience that triggered them).

with

sends as (
    select
        customer_id,
        email,
        campaign_id,
        occurred_at
    from {{ ref('stg_esp__email_events') }}
    where
        event_type = 'sent'
        and occurred_at <= {{ as_of_ts() }}
),

customers as (
    select
        customer_id,
        email
    from {{ ref('customers') }}
),

campaigns as (
    select
        campaign_id,
        program
    from {{ ref('stg_esp__campaigns') }}
)

select
    coalesce(sends.customer_id, customers.customer_id) as person_id,
    campaigns.program,
    sends.occurred_at as sent_at
from sends
left join customers
    on sends.customer_id is null and sends.email = customers.email
left join campaigns
    on sends.campaign_id = campaigns.campaign_id
where coalesce(sends.customer_id, customers.customer_id) is not null
