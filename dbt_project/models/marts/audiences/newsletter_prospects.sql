{{ apply_contact_policy(
    ref('int_newsletter_prospects_candidates'),
    'newsletter_prospects',
    [
        'consent_status',
        'order_count',
    ]
) }}
