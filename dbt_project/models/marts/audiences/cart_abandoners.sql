{{ apply_contact_policy(
    ref('int_cart_abandoners_candidates'),
    'cart_abandoners',
    [
        'stage',
        'cart_id',
        'abandoned_at',
        'checkout_started',
        'cart_value',
        'item_count',
        'cart_items',
        'incentive_percent',
    ],
    channels=true
) }}
