{#- Chatbot conversations by day (of the start) and topic: started, finished
    (an end event arrived), resolved, completion rate, duration, and
    conversations followed by a completed order of the same person within
    var chatbot_purchase_window_days after the start. -#}
{%- set window_days = var('chatbot_purchase_window_days', 7) -%}

with

events as (
    select
        event_name,
        event_at,
        conversation_id,
        customer_id,
        chatbot_topic,
        chatbot_resolved,
        chatbot_messages
    from {{ ref('int_events_identified') }}
    where
        event_name in ('Chatbot Started', 'Chatbot Ended')
        and conversation_id is not null
        and event_at <= {{ as_of_ts() }}
),

started as (
    select
        conversation_id,
        min(event_at) as started_at,
        max(customer_id) as customer_id,
        max(chatbot_topic) as topic
    from events
    where event_name = 'Chatbot Started'
    group by conversation_id
),

ended as (
    select
        conversation_id,
        max(event_at) as ended_at,
        max(customer_id) as customer_id,
        max(case when chatbot_resolved then 1 else 0 end) as resolved,
        max(chatbot_messages) as messages
    from events
    where event_name = 'Chatbot Ended'
    group by conversation_id
),

conversations as (
    select
        started.conversation_id,
        started.started_at,
        coalesce(started.topic, 'unknown') as topic,
        coalesce(started.customer_id, ended.customer_id) as customer_id,
        ended.ended_at,
        coalesce(ended.resolved, 0) as resolved,
        ended.messages,
        case
            when ended.ended_at is not null
                then {{ dbt.datediff(
                    'started.started_at', 'ended.ended_at', 'second'
                ) }} / 60.0
        end as duration_minutes
    from started
    left join ended on started.conversation_id = ended.conversation_id
),

with_purchase as (
    select
        conversations.conversation_id,
        max(case when orders.order_id is not null then 1 else 0 end)
            as purchased
    from conversations
    left join {{ ref('orders') }} as orders
        on
            conversations.customer_id = orders.customer_id
            and orders.is_completed
            and conversations.started_at < orders.placed_at
            and {{
                dbt.dateadd('day', window_days, 'conversations.started_at')
            }} >= orders.placed_at
    group by conversations.conversation_id
)

select
    cast(conversations.started_at as date) as day,  -- noqa: RF04
    conversations.topic,
    count(*) as conversations_started,
    sum(case when conversations.ended_at is not null then 1 else 0 end)
        as conversations_finished,
    sum(conversations.resolved) as conversations_resolved,
    cast(
        1.0
        * sum(case when conversations.ended_at is not null then 1 else 0 end)
        / count(*) as decimal(10, 6)
    ) as completion_rate,
    cast(avg(conversations.duration_minutes) as decimal(12, 2))
        as average_duration_minutes,
    cast(avg(conversations.messages) as decimal(12, 2)) as average_messages,
    sum(with_purchase.purchased) as purchases_within_window,
    cast(1.0 * sum(with_purchase.purchased) / count(*) as decimal(10, 6))
        as purchase_rate,
    {{ window_days }} as purchase_window_days
from conversations
inner join with_purchase
    on conversations.conversation_id = with_purchase.conversation_id
group by cast(conversations.started_at as date), conversations.topic
