{{ apply_contact_policy(
    ref('int_birthday_upcoming_candidates'),
    'birthday_upcoming',
    [
        'next_birthday',
        'days_until_birthday',
        'age_turning',
    ]
) }}
