-- No sendable row of an email audience belongs to a person or address that
-- opted out (unsubscribed, hard bounce, spam complaint: consent log or ESP
-- events) at or after their latest confirmed subscription, or that has no
-- confirmed subscription at all. Checked from staging, independently of
-- contact_policy.

with

sendable as (
    {% for audience in audience_names() %}
    select
        person_id,
        email,
        audience
    from {{ ref(audience) }}
    where is_sendable
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

email_audiences as (
    select audience from {{ ref('audience_policies') }}
    where channel = 'email'
),

subscriptions as (
    select
        customer_id,
        email,
        changed_at
    from {{ ref('stg_shop__consents') }}
    where
        channel = 'email'
        and status = 'subscribed'
        and double_opt_in_confirmed_at <= {{ as_of_ts() }}
        and changed_at <= {{ as_of_ts() }}
),

opt_outs as (
    select
        customer_id,
        email,
        changed_at
    from {{ ref('stg_shop__consents') }}
    where
        channel = 'email'
        and status in ('unsubscribed', 'bounced', 'spam_complaint')
        and changed_at <= {{ as_of_ts() }}
    union all
    select
        customer_id,
        email,
        occurred_at as changed_at
    from {{ ref('stg_esp__email_events') }}
    where
        (event_type in ('unsubscribed', 'spam') or (event_type = 'bounced' and bounce_type = 'hard'))
        and occurred_at <= {{ as_of_ts() }}
),

-- a subscription matches by person or by address: two equi-joins, not one
-- join on `a or b` (a nested loop: it had not finished after minutes at 1M)
subscription_matches as (
    select
        sendable.person_id,
        sendable.audience,
        subscriptions.changed_at
    from sendable
    left join subscriptions
        on sendable.person_id = subscriptions.customer_id
    union all
    select
        sendable.person_id,
        sendable.audience,
        subscriptions.changed_at
    from sendable
    inner join subscriptions
        on sendable.email = subscriptions.email
),

last_subscription as (
    select
        person_id,
        audience,
        max(changed_at) as subscribed_at
    from subscription_matches
    group by person_id, audience
)

select
    sendable.person_id,
    sendable.email,
    sendable.audience,
    last_subscription.subscribed_at
from sendable
inner join email_audiences
    on sendable.audience = email_audiences.audience
inner join last_subscription
    on
        sendable.person_id = last_subscription.person_id
        and sendable.audience = last_subscription.audience
where
    last_subscription.subscribed_at is null
    or exists (
        select 1 from opt_outs
        where
            opt_outs.customer_id = sendable.person_id
            and opt_outs.changed_at >= last_subscription.subscribed_at
    )
    or exists (
        select 1 from opt_outs
        where
            opt_outs.email = sendable.email
            and opt_outs.changed_at >= last_subscription.subscribed_at
    )
