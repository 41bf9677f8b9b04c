{{ apply_contact_policy(
    ref('int_product_test_candidates_candidates'),
    'product_test_candidates',
    [
        'member_id',
        'product_test_id',
        'product_id',
        'product_name',
        'product_subcategory',
        'applications_close_at',
        'review_count',
        'category_order_count',
    ]
) }}
