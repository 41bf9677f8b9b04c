{# The hour of day (0-23) of a naive UTC timestamp in an IANA time zone
   (e.g. 'Europe/Berlin'), daylight saving included. `at time zone` twice:
   naive UTC -> instant -> local wall clock. Standard on PostgreSQL; DuckDB
   runs it through its bundled ICU extension. Dispatched, so another adapter
   can bring its own (Spark: from_utc_timestamp). #}
{% macro local_hour(utc_timestamp, time_zone) -%}
    {{ return(adapter.dispatch('local_hour')(utc_timestamp, time_zone)) }}
{%- endmacro %}

{% macro default__local_hour(utc_timestamp, time_zone) -%}
    cast(extract(hour from ({{ utc_timestamp }} at time zone 'UTC') at time zone {{ time_zone }}) as integer)
{%- endmacro %}

{#- Spark has no `at time zone`: from_utc_timestamp reads a naive UTC
    timestamp and gives the wall clock of the zone. -#}
{% macro spark__local_hour(utc_timestamp, time_zone) -%}
    cast(hour(from_utc_timestamp({{ utc_timestamp }}, {{ time_zone }})) as integer)
{%- endmacro %}

{# Whether an hour (0-23) falls inside the SMS quiet hours of var
   sms_quiet_hours {start, end}: [start, end) on the local clock, across
   midnight when start > end (21 -> 8: 21:00 to 07:59); start = end: none. #}
{% macro in_quiet_hours(hour) -%}
    {%- set window = var('sms_quiet_hours') -%}
    {%- set start = window['start'] | int -%}
    {%- set end = window['end'] | int -%}
    {%- if start > end -%}
        ({{ hour }} >= {{ start }} or {{ hour }} < {{ end }})
    {%- elif start < end -%}
        ({{ hour }} >= {{ start }} and {{ hour }} < {{ end }})
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}
