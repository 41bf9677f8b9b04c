{# An email address in the one form used for matching: trimmed, lowercase. #}
{% macro normalize_email(column) -%}
    lower(trim({{ column }}))
{%- endmacro %}

{# Whether an (already normalized) email looks deliverable: one @, a dot in
   the domain, no spaces. Portable (LIKE only), deliberately simple. #}
{% macro is_valid_email(column) -%}
    coalesce(
        {{ column }} like '%_@_%._%'
        and {{ column }} not like '%@%@%'
        and {{ column }} not like '% %'
        and {{ column }} not like '%..%',
        false
    )
{%- endmacro %}
