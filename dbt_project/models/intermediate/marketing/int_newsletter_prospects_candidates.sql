-- Known customers with a valid email who are not subscribed to the newsletter:
-- never asked (consent 'none') or subscribed without confirming the double
-- opt-in. People who unsubscribed, bounced or complained are never prospects.
-- For the on-site pop-up (channel 'onsite' in audience_policies).
-- entered_at = when the customer account was created.

with

contacts as (
    select
        person_id,
        email_is_valid,
        consent_status,
        reason
    from {{ ref('contact_policy') }}
),

customers as (
    select
        customer_id,
        created_at,
        order_count
    from {{ ref('customers') }}
)

select
    contacts.person_id,
    customers.created_at as entered_at,
    contacts.consent_status,
    cast(coalesce(customers.order_count, 0) as integer) as order_count
from contacts
inner join customers
    on contacts.person_id = customers.customer_id
where
    contacts.email_is_valid
    and contacts.reason in ('no_consent', 'unconfirmed_double_opt_in')
    and customers.created_at <= {{ as_of_ts() }}
