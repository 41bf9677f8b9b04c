{{ apply_contact_policy(
    ref('int_engaged_non_buyers_candidates'),
    'engaged_non_buyers',
    [
        'member_id',
        'community_actions',
        'last_active_at',
        'last_order_at',
        'days_since_last_order',
    ]
) }}
