-- Every coupon a customer holds: the shop's own (raw.coupons, with the
-- redemption the shop recorded) and the codes the sync engine gave out per
-- person (the ledger activations.coupon_assignments). An assigned code is
-- redeemed by the first completed order carrying it (raw.orders.coupon_code,
-- compared trimmed and upper case, as codes are stored) placed at or after it
-- was given. A code the shop also lists in raw.coupons is taken from there.
-- program: the audience that gave an assigned code (null for shop coupons).

with

shop_coupons as (
    select
        coupon_code,
        customer_id,
        campaign_id,
        coupon_value,
        value_type,
        issued_at,
        expires_at,
        redeemed_at,
        order_id,
        cast(null as {{ dbt.type_string() }}) as program,  -- noqa: RF04
        'shop' as coupon_source
    from {{ ref('stg_shop__coupons') }}
),

assigned as (
    select assignments.*
    from {{ ref('stg_activations__coupon_assignments') }} as assignments
    left join shop_coupons
        on assignments.coupon_code = upper(trim(shop_coupons.coupon_code))
    where shop_coupons.coupon_code is null
),

redemptions as (
    select
        assigned.coupon_code,
        orders.order_id,
        orders.placed_at,
        row_number() over (
            partition by assigned.coupon_code
            order by orders.placed_at, orders.order_id
        ) as redemption_rank
    from assigned
    inner join {{ ref('stg_shop__orders') }} as orders
        on
            assigned.coupon_code = upper(trim(orders.coupon_code))
            and assigned.assigned_at <= orders.placed_at
    where orders.is_completed
),

assigned_coupons as (
    select
        assigned.coupon_code,
        assigned.customer_id,
        assigned.coupon_campaign as campaign_id,
        assigned.coupon_value,
        assigned.value_type,
        assigned.assigned_at as issued_at,
        assigned.expires_at,
        redemptions.placed_at as redeemed_at,
        redemptions.order_id,
        assigned.audience as program,  -- noqa: RF04
        'assigned' as coupon_source
    from assigned
    left join redemptions
        on
            assigned.coupon_code = redemptions.coupon_code
            and redemptions.redemption_rank = 1
)

select * from shop_coupons
union all
select * from assigned_coupons
