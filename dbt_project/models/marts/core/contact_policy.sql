-- Marketing-email consent of every customer with an email (a blank one is no
-- email: the audiences flag that person missing_email), as of as_of: the
-- latest consent change wins (consent log and ESP feedback together; on a tie
-- the stronger suppression wins, then the shop's own consent log, so the same
-- data always gives the same row). Sending needs a confirmed double opt-in.

with

customers as (
    select
        customer_id,
        email,
        email_is_valid
    from {{ ref('customers') }}
    where email is not null and email <> ''
),

ranked_changes as (
    select
        person_id,
        status,
        double_opt_in_confirmed_at,
        changed_at,
        origin,
        row_number() over (
            partition by person_id
            order by
                changed_at desc,
                case status
                    when 'spam_complaint' then 1
                    when 'bounced' then 2
                    when 'unsubscribed' then 3
                    else 4
                end,
                double_opt_in_confirmed_at desc nulls last,
                case origin when 'consent_log' then 1 else 2 end
        ) as change_rank
    from {{ ref('int_email_consent_changes_unioned') }}
),

latest as (
    select * from ranked_changes
    where change_rank = 1
),

decided as (
    select
        customers.customer_id as person_id,
        customers.email,
        coalesce(customers.email_is_valid, false) as email_is_valid,
        coalesce(latest.status, 'none') as consent_status,
        latest.changed_at as consent_changed_at,
        latest.origin as consent_origin,
        case
            when
                latest.status = 'subscribed'
                and latest.double_opt_in_confirmed_at <= {{ as_of_ts() }}
                then latest.double_opt_in_confirmed_at
        end as double_opt_in_confirmed_at,
        case
            when latest.status = 'spam_complaint' then 'spam_complaint'
            when latest.status = 'bounced' then 'hard_bounce'
            when latest.status = 'unsubscribed' then 'unsubscribed'
            when not coalesce(customers.email_is_valid, false) then 'invalid_email'
            when latest.status is null or latest.status <> 'subscribed' then 'no_consent'
            when
                latest.double_opt_in_confirmed_at is null
                or latest.double_opt_in_confirmed_at > {{ as_of_ts() }}
                then 'unconfirmed_double_opt_in'
        end as reason
    from customers
    left join latest
        on customers.customer_id = latest.person_id
)

select
    person_id,
    email,
    email_is_valid,
    consent_status,
    consent_changed_at,
    consent_origin,
    double_opt_in_confirmed_at,
    reason is null as can_email_marketing,
    reason
from decided
