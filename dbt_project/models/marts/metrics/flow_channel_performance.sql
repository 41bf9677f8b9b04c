{#- Flows (programs = audiences) split by channel, up to as_of. A touch is one
    message a person was really sent: an email (email_events 'sent', the
    campaign's program) or an SMS an SMS provider confirmed
    (stg_activations__sms_sends, the audience its sync read). Attribution rule
    (send-based last touch, so both channels are measured alike: SMS has no
    open or click events): a completed order is credited, whole, to the
    latest touch of its buyer in [placed_at - attribution_window_days,
    placed_at), of any flow and either channel; an order with no touch in its
    window is not attributed. Per flow and channel (both channels on every
    flow, zero when unused): people reached and messages sent, people
    converted, orders and revenue credited to that channel's touches, and
    the conversion rate (converted / reached). Per flow, repeated on both of
    its rows: the orders credited to the flow (for cart_abandoners: the
    rescued carts), those whose buyer was reached by the flow only by SMS in
    the order's window (SMS, and no email of the flow), and their share. -#}
{%- set window_days = var('attribution_window_days', 7) -%}

with

email_touches as (
    select
        person_id,
        program as flow,
        'email' as channel,
        sent_at as touched_at
    from {{ ref('int_email_sends_attributed') }}
    where program is not null
),

sms_touches as (
    select
        person_id,
        audience as flow,
        'sms' as channel,
        sent_at as touched_at
    from {{ ref('stg_activations__sms_sends') }}
    where
        sent_at <= {{ as_of_ts() }}
        and audience is not null
),

touches as (
    select * from email_touches
    union all
    select * from sms_touches
),

orders as (
    select
        order_id,
        customer_id,
        placed_at,
        total
    from {{ ref('orders') }}
    where
        is_completed
        and customer_id is not null
        and placed_at <= {{ as_of_ts() }}
),

-- every touch inside an order's window, the latest first
order_touches as (
    select
        orders.order_id,
        orders.customer_id,
        orders.placed_at,
        orders.total,
        touches.flow,
        touches.channel,
        touches.touched_at,
        row_number() over (
            partition by orders.order_id
            order by
                touches.touched_at desc,
                touches.channel asc,
                touches.flow asc
        ) as recency_rank
    from orders
    inner join touches
        on
            orders.customer_id = touches.person_id
            and orders.placed_at > touches.touched_at
            and touches.touched_at
            >= {{ dbt.dateadd('day', -window_days, 'orders.placed_at') }}
),

credited as (
    select * from order_touches
    where recency_rank = 1
),

-- per credited order: did the flow reach the buyer by email, by SMS, in the window?
credited_reach as (
    select
        credited.order_id,
        credited.flow,
        max(case when order_touches.channel = 'email' then 1 else 0 end) as by_email,
        max(case when order_touches.channel = 'sms' then 1 else 0 end) as by_sms
    from credited
    inner join order_touches
        on
            credited.order_id = order_touches.order_id
            and credited.flow = order_touches.flow
    group by credited.order_id, credited.flow
),

flows as (
    select distinct flow from touches
),

channels as (
    select 'email' as channel
    union all
    select 'sms' as channel
),

reach as (
    select
        flow,
        channel,
        count(distinct person_id) as people_reached,
        count(*) as messages_sent
    from touches
    group by flow, channel
),

conversions as (
    select
        flow,
        channel,
        count(distinct customer_id) as people_converted,
        count(*) as orders,
        sum(total) as revenue
    from credited
    group by flow, channel
),

flow_rescues as (
    select
        flow,
        count(*) as flow_orders,
        sum(case when by_sms = 1 and by_email = 0 then 1 else 0 end) as flow_orders_only_sms
    from credited_reach
    group by flow
)

select
    flows.flow,
    channels.channel,
    coalesce(reach.people_reached, 0) as people_reached,
    coalesce(reach.messages_sent, 0) as messages_sent,
    coalesce(conversions.people_converted, 0) as people_converted,
    coalesce(conversions.orders, 0) as orders,
    cast(coalesce(conversions.revenue, 0) as decimal(18, 2)) as revenue,
    cast(
        case
            when coalesce(reach.people_reached, 0) > 0
                then 1.0 * coalesce(conversions.people_converted, 0) / reach.people_reached
        end as decimal(9, 4)
    ) as conversion_rate,
    coalesce(flow_rescues.flow_orders, 0) as flow_orders,
    coalesce(flow_rescues.flow_orders_only_sms, 0) as flow_orders_only_sms,
    cast(
        case
            when coalesce(flow_rescues.flow_orders, 0) > 0
                then 1.0 * flow_rescues.flow_orders_only_sms / flow_rescues.flow_orders
        end as decimal(9, 4)
    ) as share_only_sms
from flows
cross join channels
left join reach
    on flows.flow = reach.flow and channels.channel = reach.channel
left join conversions
    on flows.flow = conversions.flow and channels.channel = conversions.channel
left join flow_rescues
    on flows.flow = flow_rescues.flow
