{{ apply_contact_policy(
    ref('int_dormant_customers_candidates'),
    'dormant_customers',
    [
        'recency_bucket',
        'basket_bucket',
        'days_since_last_order',
        'average_basket',
        'coupon_value',
        'last_order_at',
    ]
) }}
