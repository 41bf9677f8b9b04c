-- Every rate in the metric marts is a fraction in [0, 1] (or null when its
-- denominator is zero). Returns the offending mart, row key and value.
{{ config(meta={'dagster': {'ref': {'name': 'campaign_performance'}}}) }}

{% set checks = [
    ('campaign_performance', "campaign_id || '-' || variant", ['delivery_rate', 'bounce_rate', 'open_rate', 'click_rate', 'click_to_open_rate', 'spam_rate', 'unsubscribe_rate']),
    ('campaign_ab_tests', 'campaign_id', ['a_rate', 'b_rate', 'p_value']),
    ('coupon_performance', 'campaign_id', ['redemption_rate', 'reminded_redemption_rate', 'not_reminded_redemption_rate']),
    ('chatbot_metrics', "cast(day as " ~ dbt.type_string() ~ ") || topic", ['completion_rate', 'purchase_rate']),
    ('newsletter_growth', "cast(day as " ~ dbt.type_string() ~ ")", ['purchaser_share']),
    ('newsletter_unsubscribes_by_tenure', 'tenure_bucket', ['share_of_unsubscribes']),
    ('program_lift', 'program', ['treated_conversion_rate', 'control_conversion_rate']),
    ('flow_channel_performance', "flow || '-' || channel", ['conversion_rate', 'share_only_sms']),
] %}

{% for model, key, columns in checks %}
    {% for column in columns %}
        select
            '{{ model }}' as mart,
            {{ key }} as row_key,
            '{{ column }}' as rate,
            cast({{ column }} as {{ type_double() }}) as rate_value
        from {{ ref(model) }}
        where {{ column }} < 0 or {{ column }} > 1
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
