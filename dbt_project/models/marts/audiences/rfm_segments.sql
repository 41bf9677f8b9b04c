{{ apply_contact_policy(
    ref('int_rfm_segments_candidates'),
    'rfm_segments',
    [
        'segment',
        'r_score',
        'f_score',
        'm_score',
        'fm_score',
        'recency_days',
        'frequency',
        'monetary',
    ]
) }}
