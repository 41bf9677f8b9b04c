{{ apply_contact_policy(
    ref('int_category_buyers_candidates'),
    'category_buyers',
    [
        'buyer_type',
        'order_count',
        'revenue',
    ]
) }}
