-- The candidates of every audience (one row per person and audience), before
-- the contact policy: what int_audience_memberships_decided ranks and caps.

{% for audience in audience_names() %}
    select
        person_id,
        '{{ audience }}' as audience,
        entered_at
    from {{ ref('int_' ~ audience ~ '_candidates') }}
    {% if not loop.last %}union all{% endif %}
{% endfor %}
