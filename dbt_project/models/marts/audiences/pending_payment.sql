{{ apply_contact_policy(
    ref('int_pending_payment_candidates'),
    'pending_payment',
    [
        'order_id',
        'placed_at',
        'order_total',
        'item_count',
        'hours_pending',
    ]
) }}
