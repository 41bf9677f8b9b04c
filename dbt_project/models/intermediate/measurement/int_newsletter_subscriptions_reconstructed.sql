{#- One row per email address that ever confirmed a newsletter subscription
    (double opt-in): when and from which source it was confirmed, when and why
    it ended (the first unsubscribe, bounce or spam complaint after the
    confirmation), the buyer behind it and their purchases. Re-subscriptions
    are not counted again: the product never re-subscribes anyone. -#}

with

consents as (
    select *
    from {{ ref('stg_shop__consents') }}
    where channel = 'email' and email is not null
),

confirmations as (
    select
        email,
        min(double_opt_in_confirmed_at) as confirmed_at
    from consents
    where double_opt_in_confirmed_at is not null
    group by email
),

confirming_rows as (
    select
        consents.email,
        consents.source,
        row_number() over (
            partition by consents.email
            order by consents.changed_at, consents.consent_id
        ) as row_rank
    from consents
    inner join confirmations
        on
            consents.email = confirmations.email
            and consents.double_opt_in_confirmed_at = confirmations.confirmed_at
),

endings as (
    select
        consents.email,
        consents.status,
        consents.changed_at,
        row_number() over (
            partition by consents.email
            order by consents.changed_at, consents.consent_id
        ) as row_rank
    from consents
    inner join confirmations
        on
            consents.email = confirmations.email
            and consents.changed_at >= confirmations.confirmed_at
    where consents.status in ('unsubscribed', 'bounced', 'spam_complaint')
),

people as (
    select
        confirmations.email,
        coalesce(
            max(consents.customer_id),
            max(customers.customer_id)
        ) as customer_id
    from confirmations
    left join consents on confirmations.email = consents.email
    left join {{ ref('stg_shop__customers') }} as customers
        on confirmations.email = customers.email
    group by confirmations.email
),

completed_orders as (
    select
        customer_id,
        placed_at
    from {{ ref('orders') }}
    where is_completed and customer_id is not null
),

purchases as (
    select
        people.email,
        min(completed_orders.placed_at) as first_order_at,
        min(
            case
                when completed_orders.placed_at > confirmations.confirmed_at
                    then completed_orders.placed_at
            end
        ) as first_order_after_signup_at
    from people
    inner join confirmations on people.email = confirmations.email
    inner join completed_orders
        on people.customer_id = completed_orders.customer_id
    group by people.email
)

select
    confirmations.email,
    people.customer_id,
    coalesce(confirming_rows.source, 'unknown') as source,  -- noqa: RF04
    confirmations.confirmed_at,
    endings.changed_at as ended_at,
    endings.status as end_reason,
    purchases.first_order_at,
    purchases.first_order_after_signup_at
from confirmations
left join confirming_rows
    on confirmations.email = confirming_rows.email
        and confirming_rows.row_rank = 1
left join endings
    on confirmations.email = endings.email and endings.row_rank = 1
left join people on confirmations.email = people.email
left join purchases on confirmations.email = purchases.email
