{#- One row per attributed order and email touch, with the credit each
    attribution model gives that touch. A touch is one email (message) the
    buyer clicked (or opened, with var attribution_include_opens) in the
    window [placed_at - attribution_window_days, placed_at). Credits are whole
    cents allocated by cumulative rounding, so each model's credits sum
    exactly to the order's revenue (its total). -#}
{%- set window_days = var('attribution_window_days', 7) -%}
{%- set include_opens = var('attribution_include_opens', false) -%}
{%- set touch_types = ['clicked'] + (['opened'] if include_opens else []) -%}

with

orders as (
    select
        order_id,
        customer_id,
        placed_at,
        total as order_revenue
    from {{ ref('orders') }}
    where is_completed and customer_id is not null
),

campaigns as (
    select
        campaign_id,
        program
    from {{ ref('stg_esp__campaigns') }}
),

engagements as (
    select
        message_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at
    from {{ ref('stg_esp__email_events') }}
    where
        event_type in ('{{ touch_types | join("', '") }}')
        and customer_id is not null
),

-- one touch per order and email: its latest engagement inside the window
touches as (
    select
        orders.order_id,
        engagements.message_id,
        max(engagements.campaign_id) as campaign_id,
        max(engagements.occurred_at) as touched_at,
        max(case when engagements.event_type = 'clicked' then 1 else 0 end)
            as has_click
    from orders
    inner join engagements
        on
            orders.customer_id = engagements.customer_id
            and orders.placed_at > engagements.occurred_at
            and engagements.occurred_at
            >= {{ dbt.dateadd('day', -window_days, 'orders.placed_at') }}
    group by orders.order_id, engagements.message_id
),

numbered as (
    select
        touches.*,
        row_number() over (
            partition by touches.order_id
            order by touches.touched_at, touches.message_id
        ) as touch_number,
        count(*) over (partition by touches.order_id) as touch_count
    from touches
),

-- cumulative credit in cents up to and including this touch
cumulated as (
    select
        numbered.*,
        orders.customer_id,
        orders.placed_at,
        orders.order_revenue,
        cast(orders.order_revenue * 100 as bigint) as revenue_cents,
        floor(
            cast(orders.order_revenue * 100 as {{ type_double() }})
            * numbered.touch_number / numbered.touch_count
            + 0.5
        ) as linear_cum_cents,
        case
            when numbered.touch_number = numbered.touch_count
                then cast(orders.order_revenue * 100 as {{ type_double() }})
            when numbered.touch_count = 2
                then floor(
                        cast(orders.order_revenue * 100 as {{ type_double() }}) / 2
                        + 0.5
                    )
            else floor(
                    cast(orders.order_revenue * 100 as {{ type_double() }})
                    * (
                        2 * (numbered.touch_count - 2)
                        + (numbered.touch_number - 1)
                    )
                    / (5 * (numbered.touch_count - 2))
                    + 0.5
                )
        end as position_cum_cents
    from numbered
    inner join orders on numbered.order_id = orders.order_id
),

credited as (
    select
        cumulated.*,
        case
            when cumulated.touch_number = 1 then cumulated.revenue_cents else 0
        end
            as first_touch_cents,
        case
            when
                cumulated.touch_number = cumulated.touch_count
                then cumulated.revenue_cents
            else 0
        end
            as last_touch_cents,
        cumulated.linear_cum_cents
        - lag(cumulated.linear_cum_cents, 1, 0) over (
            partition by cumulated.order_id order by cumulated.touch_number
        ) as linear_cents,
        cumulated.position_cum_cents
        - lag(cumulated.position_cum_cents, 1, 0) over (
            partition by cumulated.order_id order by cumulated.touch_number
        ) as position_cents
    from cumulated
)

select
    credited.order_id,
    credited.touch_number,
    credited.customer_id,
    credited.placed_at,
    credited.order_revenue,
    credited.touch_count,
    credited.message_id,
    credited.campaign_id,
    coalesce(campaigns.program, 'unknown') as program,  -- noqa: RF04
    case when credited.has_click = 1 then 'click' else 'open' end as touch_type,
    credited.touched_at,
    cast(credited.first_touch_cents / 100.0 as decimal(12, 2))
        as first_touch_credit,
    cast(credited.last_touch_cents / 100.0 as decimal(12, 2))
        as last_touch_credit,
    cast(credited.linear_cents / 100.0 as decimal(12, 2)) as linear_credit,
    cast(credited.position_cents / 100.0 as decimal(12, 2))
        as position_based_credit
from credited
left join campaigns on credited.campaign_id = campaigns.campaign_id
