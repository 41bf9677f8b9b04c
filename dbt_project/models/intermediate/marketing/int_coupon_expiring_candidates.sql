-- Customers holding a coupon (the shop's own, or a code a sync gave them:
-- int_coupons_unioned) not redeemed as of as_of that expires after as_of
-- and at most coupon_expiry_lookahead_days later (elapsed time: exactly
-- lookahead days is in; already expired is out). One row per person: the coupon
-- expiring first. entered_at = expires_at - lookahead days.

with

open_coupons as (
    select
        customer_id,
        coupon_code,
        coupon_value,
        value_type,
        issued_at,
        expires_at,
        row_number() over (partition by customer_id order by expires_at, coupon_code) as coupon_rank
    from {{ ref('int_coupons_unioned') }}
    where
        customer_id is not null
        and issued_at <= {{ as_of_ts() }}
        and (redeemed_at is null or redeemed_at > {{ as_of_ts() }})
        and expires_at > {{ as_of_ts() }}
        and expires_at <= {{ dbt.dateadd('day', var('coupon_expiry_lookahead_days'), as_of_ts()) }}
)

select
    customer_id as person_id,
    {{ dbt.dateadd('day', -1 * var('coupon_expiry_lookahead_days'), 'expires_at') }} as entered_at,
    coupon_code,
    cast(coupon_value as decimal(12, 2)) as coupon_value,
    value_type as coupon_value_type,
    expires_at
from open_coupons
where coupon_rank = 1
