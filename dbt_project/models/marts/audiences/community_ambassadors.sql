{{ apply_contact_policy(
    ref('int_community_ambassadors_candidates'),
    'community_ambassadors',
    [
        'member_id',
        'display_name',
        'contribution_count',
        'reactions_received',
        'helpful_received',
        'reactions_per_contribution',
        'ambassador_rank',
        'points_balance',
    ]
) }}
