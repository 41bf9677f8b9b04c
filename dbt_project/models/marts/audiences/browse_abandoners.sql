{{ apply_contact_policy(
    ref('int_browse_abandoners_candidates'),
    'browse_abandoners',
    [
        'last_viewed_at',
        'viewed_product_count',
        'viewed_products',
    ]
) }}
