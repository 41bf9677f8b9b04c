-- Every attribution model gives each attributed order exactly its revenue:
-- returns the orders where any model's credits do not add up.
{{ config(meta={'dagster': {'ref': {'name': 'attributed_orders'}}}) }}

select
    order_id,
    max(order_revenue) as order_revenue,
    sum(first_touch_credit) as first_touch,
    sum(last_touch_credit) as last_touch,
    sum(linear_credit) as linear,
    sum(position_based_credit) as position_based
from {{ ref('attributed_orders') }}
group by order_id
having
    sum(first_touch_credit) <> max(order_revenue)
    or sum(last_touch_credit) <> max(order_revenue)
    or sum(linear_credit) <> max(order_revenue)
    or sum(position_based_credit) <> max(order_revenue)
    or min(first_touch_credit) < 0
    or min(linear_credit) < 0
    or min(position_based_credit) < 0
