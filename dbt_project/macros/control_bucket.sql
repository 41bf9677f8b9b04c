{# A stable number in [0, 65536) from md5(person_id || ':' || audience): the first
   four hex digits of the hash, decoded with portable string functions only.
   A person is in an audience's control group when
   control_bucket(...) < control_share * 65536. Same inputs, same bucket, on every
   build and every adapter; metrics can recompute it to measure lift. #}
{% macro control_bucket(person_id, audience) -%}
    {%- set hashed -%}
        {{ dbt.hash(dbt.concat([person_id, "':'", audience])) }}
    {%- endset -%}
    (
    {%- for i in range(4) %}
        ({{ dbt.position("substr(" ~ hashed ~ ", " ~ (i + 1) ~ ", 1)", "'0123456789abcdef'") }} - 1)
        * {{ 16 ** (3 - i) }}{% if not loop.last %} +{% endif %}
    {%- endfor %}
    )
{%- endmacro %}
