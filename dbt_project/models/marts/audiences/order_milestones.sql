{{ apply_contact_policy(
    ref('int_order_milestones_candidates'),
    'order_milestones',
    [
        'milestone',
        'milestone_type',
        'milestone_value',
        'milestone_order_id',
        'order_count',
        'total_spend',
    ]
) }}
