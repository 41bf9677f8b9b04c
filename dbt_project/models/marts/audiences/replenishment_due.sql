{{ apply_contact_policy(
    ref('int_replenishment_due_candidates'),
    'replenishment_due',
    [
        'product_id',
        'product_name',
        'price',
        'image_url',
        'product_url',
        'last_purchased_at',
        'due_product_count',
        'due_products',
    ]
) }}
