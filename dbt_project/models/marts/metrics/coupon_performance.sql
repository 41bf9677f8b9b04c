{#- Coupons by issuing campaign (the shop's coupons by ESP campaign; the codes
    syncs gave out by coupon campaign, with the audience that gave them as
    program, redeemed through raw.orders.coupon_code: int_coupons_unioned):
    issued, redeemed, redemption rate, revenue and discount of the completed
    orders that used them, and the effect of expiry reminders: redemption of
    coupons whose holder got an email of the coupon_expiring program between
    issue and expiry (before redeeming) against coupons whose holder did not. -#}

with

coupons as (
    select * from {{ ref('int_coupons_unioned') }}
    where issued_at <= {{ as_of_ts() }}
),

campaigns as (
    select
        campaign_id,
        campaign_name,
        program
    from {{ ref('stg_esp__campaigns') }}
),

reminders as (
    select
        events.customer_id,
        events.occurred_at
    from {{ ref('stg_esp__email_events') }} as events
    inner join campaigns on events.campaign_id = campaigns.campaign_id
    where events.event_type = 'sent' and campaigns.program = 'coupon_expiring'
),

reminded as (
    select distinct coupons.coupon_code
    from coupons
    inner join reminders
        on
            coupons.customer_id = reminders.customer_id
            and coupons.issued_at <= reminders.occurred_at
            and reminders.occurred_at
            <= coalesce(coupons.expires_at, reminders.occurred_at)
            and (
                coupons.redeemed_at is null
                or coupons.redeemed_at > reminders.occurred_at
            )
),

redemption_orders as (
    -- codes as typed at checkout: compared trimmed and upper case
    select
        order_id,
        upper(trim(coupon_code)) as coupon_code,
        total,
        discount
    from {{ ref('orders') }}
    where is_completed and coupon_code is not null
),

enriched as (
    select
        coupons.coupon_code,
        coalesce(coupons.campaign_id, 'none') as campaign_id,
        coupons.program,
        case when coupons.redeemed_at is not null then 1 else 0 end
            as is_redeemed,
        case when reminded.coupon_code is not null then 1 else 0 end
            as is_reminded,
        coalesce(redemption_orders.total, 0) as order_revenue,
        coalesce(redemption_orders.discount, 0) as order_discount
    from coupons
    left join reminded on coupons.coupon_code = reminded.coupon_code
    left join redemption_orders
        on
            upper(trim(coupons.coupon_code)) = redemption_orders.coupon_code
            and (
                coupons.order_id is null
                or coupons.order_id = redemption_orders.order_id
            )
),

by_campaign as (
    select
        campaign_id,
        max(program) as coupon_program,
        count(distinct coupon_code) as coupons_issued,
        count(distinct case when is_redeemed = 1 then coupon_code end)
            as coupons_redeemed,
        sum(order_revenue) as redeemed_order_revenue,
        sum(order_discount) as redeemed_order_discount,
        count(distinct case when is_reminded = 1 then coupon_code end)
            as reminded_issued,
        count(
            distinct case
                when is_reminded = 1 and is_redeemed = 1 then coupon_code
            end
        )
            as reminded_redeemed,
        count(distinct case when is_reminded = 0 then coupon_code end)
            as not_reminded_issued,
        count(
            distinct case
                when is_reminded = 0 and is_redeemed = 1 then coupon_code
            end
        )
            as not_reminded_redeemed
    from enriched
    group by campaign_id
)

select
    by_campaign.campaign_id,
    -- a coupon campaign of the syncs has no ESP campaign: its own name
    coalesce(
        campaigns.campaign_name,
        case
            when by_campaign.coupon_program is not null
                then by_campaign.campaign_id
        end
    ) as campaign_name,
    coalesce(
        campaigns.program, by_campaign.coupon_program, 'none'
    ) as program,  -- noqa: RF04
    by_campaign.coupons_issued,
    by_campaign.coupons_redeemed,
    cast(
        1.0
        * by_campaign.coupons_redeemed
        / nullif(by_campaign.coupons_issued, 0)
        as decimal(10, 6)
    ) as redemption_rate,
    cast(by_campaign.redeemed_order_revenue as decimal(14, 2))
        as redeemed_order_revenue,
    cast(by_campaign.redeemed_order_discount as decimal(14, 2))
        as redeemed_order_discount,
    by_campaign.reminded_issued,
    by_campaign.reminded_redeemed,
    cast(
        1.0
        * by_campaign.reminded_redeemed
        / nullif(by_campaign.reminded_issued, 0)
        as decimal(10, 6)
    ) as reminded_redemption_rate,
    by_campaign.not_reminded_issued,
    by_campaign.not_reminded_redeemed,
    cast(
        1.0
        * by_campaign.not_reminded_redeemed
        / nullif(by_campaign.not_reminded_issued, 0)
        as decimal(10, 6)
    ) as not_reminded_redemption_rate
from by_campaign
left join campaigns on by_campaign.campaign_id = campaigns.campaign_id
