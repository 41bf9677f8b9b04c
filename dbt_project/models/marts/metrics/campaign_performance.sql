{#- One row per campaign or flow and variant ('all' when the campaign has no
    variants). Counts are distinct emails (message_id) that reached each
    stage; delivery and bounce rates are over sent, the other rates over
    delivered. -#}
{%- set stages = [
    'sent', 'delivered', 'opened', 'clicked', 'bounced', 'spam', 'unsubscribed',
] -%}

with

campaigns as (
    select * from {{ ref('stg_esp__campaigns') }}
),

events as (
    select
        campaign_id,
        coalesce(variant, 'all') as variant,
        message_id,
        event_type
    from {{ ref('stg_esp__email_events') }}
),

counted as (
    select
        campaign_id,
        variant,
        {% for stage in stages %}
            count(
                distinct case
                    when event_type = '{{ stage }}' then message_id
                end
            )
                as {{ stage }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from events
    group by campaign_id, variant
)

select
    counted.campaign_id,
    counted.variant,
    campaigns.campaign_name,
    campaigns.campaign_kind,
    coalesce(campaigns.program, 'unknown') as program,  -- noqa: RF04
    campaigns.ab_test,
    campaigns.started_at,
    counted.sent,
    counted.delivered,
    counted.opened,
    counted.clicked,
    counted.bounced,
    counted.spam,
    counted.unsubscribed,
    cast(1.0 * counted.delivered / nullif(counted.sent, 0) as decimal(10, 6))
        as delivery_rate,
    cast(1.0 * counted.bounced / nullif(counted.sent, 0) as decimal(10, 6))
        as bounce_rate,
    cast(1.0 * counted.opened / nullif(counted.delivered, 0) as decimal(10, 6))
        as open_rate,
    cast(1.0 * counted.clicked / nullif(counted.delivered, 0) as decimal(10, 6))
        as click_rate,
    cast(1.0 * counted.clicked / nullif(counted.opened, 0) as decimal(10, 6))
        as click_to_open_rate,
    cast(1.0 * counted.spam / nullif(counted.delivered, 0) as decimal(10, 6))
        as spam_rate,
    cast(
        1.0 * counted.unsubscribed / nullif(counted.delivered, 0)
        as decimal(10, 6)
    ) as unsubscribe_rate
from counted
left join campaigns on counted.campaign_id = campaigns.campaign_id
