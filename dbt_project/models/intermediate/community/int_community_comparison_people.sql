{#- Who the members-versus-non-members comparison compares, and what each
    person did in the outcome window: the community_comparison_window_days
    before as_of. People: customers whose account existed at the window start.
    Members: joined the community before the window start (whatever they did
    since). Non-members: never joined up to as_of. People who joined during
    the window are left out of both groups. Each person gets a stratum:
    tenure (whole days from account creation to the window start, cut at
    community_comparison_tenure_edges_days) x prior spend (completed orders'
    total in the community_comparison_prior_days before the window start, cut
    at community_comparison_spend_edges). Outcomes in the window: emails
    delivered and opened (distinct emails), completed orders and their total. -#}
{%- set window_days = var('community_comparison_window_days') -%}
{%- set prior_days = var('community_comparison_prior_days') -%}
{%- set window_start = dbt.dateadd('day', -1 * window_days, as_of_ts()) -%}
{%- set prior_start = dbt.dateadd('day', -1 * (window_days + prior_days), as_of_ts()) -%}
{%- set tenure_edges = var('community_comparison_tenure_edges_days') -%}
{%- set spend_edges = var('community_comparison_spend_edges') -%}

with

customers as (
    select
        customer_id,
        created_at
    from {{ ref('stg_shop__customers') }}
    where created_at < {{ window_start }}
),

memberships as (
    select
        customer_id,
        min(joined_at) as joined_at
    from {{ ref('stg_community__members') }}
    where customer_id is not null and joined_at <= {{ as_of_ts() }}
    group by customer_id
),

orders as (
    select
        customer_id,
        placed_at,
        total
    from {{ ref('orders') }}
    where
        is_completed
        and customer_id is not null
        and placed_at <= {{ as_of_ts() }}
        and placed_at >= {{ prior_start }}
),

spend as (
    select
        customer_id,
        sum(case when placed_at < {{ window_start }} then total else 0 end) as prior_spend,
        sum(case when placed_at >= {{ window_start }} then 1 else 0 end) as window_orders,
        sum(case when placed_at >= {{ window_start }} then total else 0 end) as window_revenue
    from orders
    group by customer_id
),

emails as (
    select
        customer_id,
        count(distinct case when event_type = 'delivered' then message_id end) as delivered,
        count(distinct case when event_type = 'opened' then message_id end) as opened
    from {{ ref('stg_esp__email_events') }}
    where
        customer_id is not null
        and occurred_at >= {{ window_start }}
        and occurred_at <= {{ as_of_ts() }}
        and event_type in ('delivered', 'opened')
    group by customer_id
),

people as (
    select
        customers.customer_id,
        memberships.joined_at is not null as is_member,
        {{ dbt.datediff('customers.created_at', window_start, 'day') }} as tenure_days,
        coalesce(spend.prior_spend, 0) as prior_spend,
        coalesce(emails.delivered, 0) as delivered,
        coalesce(emails.opened, 0) as opened,
        coalesce(spend.window_orders, 0) as window_orders,
        coalesce(spend.window_revenue, 0) as window_revenue
    from customers
    left join memberships
        on customers.customer_id = memberships.customer_id
    left join spend
        on customers.customer_id = spend.customer_id
    left join emails
        on customers.customer_id = emails.customer_id
    where memberships.joined_at is null or memberships.joined_at < {{ window_start }}
)

select
    customer_id as person_id,
    is_member,
    case
        {%- for edge in tenure_edges %}
        when tenure_days < {{ edge }} then 'tenure_{{ loop.index }}'
        {%- endfor %}
        else 'tenure_{{ tenure_edges | length + 1 }}'
    end as tenure_bucket,
    case
        when prior_spend <= 0 then 'spend_0'
        {%- for edge in spend_edges %}
        when prior_spend < {{ edge }} then 'spend_{{ loop.index }}'
        {%- endfor %}
        else 'spend_{{ spend_edges | length + 1 }}'
    end as spend_bucket,
    cast(tenure_days as integer) as tenure_days,
    cast(prior_spend as decimal(14, 2)) as prior_spend,
    cast(delivered as integer) as emails_delivered,
    cast(opened as integer) as emails_opened,
    cast(window_orders as integer) as orders,
    cast(window_revenue as decimal(14, 2)) as revenue
from people
