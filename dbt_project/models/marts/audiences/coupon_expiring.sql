{{ apply_contact_policy(
    ref('int_coupon_expiring_candidates'),
    'coupon_expiring',
    [
        'coupon_code',
        'coupon_value',
        'coupon_value_type',
        'expires_at',
    ]
) }}
