{# The reference moment of audiences and metrics, one for the whole build, UTC.
   var `as_of` = 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS' (UTC): that moment (a date
   means its midnight, the start of that day). `activations build`, Dagster and
   the demo always pass it, fixed when the build starts. Unset (a plain `dbt
   build`): the moment this dbt invocation started, in UTC (`run_started_at`),
   so every model of one build still sees the same as_of, and never the
   session's clock or time zone. Either way it is a literal in the compiled
   SQL, so a view built with it keeps returning the rows of that build. #}
{% macro as_of_ts() -%}
    cast('{{ as_of_literal() }}' as timestamp)
{%- endmacro %}

{% macro as_of_date() -%}
    cast({{ as_of_ts() }} as date)
{%- endmacro %}

{% macro as_of_literal() -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of is none or (as_of | string | trim) == '' -%}
        {{ run_started_at.astimezone(modules.pytz.utc).strftime('%Y-%m-%d %H:%M:%S') }}
    {%- else -%}
        {%- set text = as_of | string | trim -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?$', text) -%}
            {{ exceptions.raise_compiler_error(
                "var as_of " ~ (text | tojson) ~ " is not a date or a UTC time: write 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM:SS'"
            ) }}
        {%- endif -%}
        {{ text | replace('T', ' ') }}
    {%- endif -%}
{%- endmacro %}

{# Pin the session's time zone to UTC (raw timestamps are naive UTC): a model
   pre-hook for every model, so no connection of a build follows the machine's
   or the server's zone (DuckDB is also pinned by profiles.yml `settings`). #}
{% macro set_session_time_zone_utc() -%}
    {{ return(adapter.dispatch('set_session_time_zone_utc')()) }}
{%- endmacro %}

{% macro default__set_session_time_zone_utc() -%}
    set time zone 'UTC'
{%- endmacro %}

{% macro duckdb__set_session_time_zone_utc() -%}
    set timezone = 'UTC'
{%- endmacro %}
