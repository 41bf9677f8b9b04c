{{ apply_contact_policy(
    ref('int_welcome_series_candidates'),
    'welcome_series',
    [
        'subscribed_at',
        'step',
        'step_content',
        'coupon_value',
    ]
) }}
