{{ apply_contact_policy(
    ref('int_first_order_followup_candidates'),
    'first_order_followup',
    [
        'first_order_id',
        'first_order_at',
        'first_order_total',
    ]
) }}
