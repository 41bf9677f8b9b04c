{# The audiences of marts/audiences, in one list: the contact policy unions the
   candidates of every one of them. Adding an audience = a candidates model
   `int_<audience>_candidates`, a mart model calling apply_contact_policy, a row
   in seeds/audience_policies.csv and its name here. #}
{% macro audience_names() -%}
    {{ return([
        'cart_abandoners',
        'browse_abandoners',
        'pending_payment',
        'welcome_series',
        'dormant_customers',
        'rfm_segments',
        'replenishment_due',
        'birthday_upcoming',
        'first_order_followup',
        'order_milestones',
        'newsletter_prospects',
        'coupon_expiring',
        'category_buyers',
        'community_ambassadors',
        'product_test_candidates',
        'engaged_non_buyers',
    ]) }}
{%- endmacro %}
