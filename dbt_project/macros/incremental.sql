{# Incremental models (append-mostly event streams). An incremental run takes
   the rows whose `column` is at or after the latest value already loaded into
   the model, minus `lookback_hours`: the load cursor (received_at for track
   calls) or the event time (occurred_at for email events, which carry no load
   time). A row taken again replaces itself (delete+insert on the model's
   unique_key), so the lookback only widens the window, never duplicates. A
   row that arrives later than the lookback behind the cursor is missed until
   the next `--full-refresh`. Rows without a value are always taken (an
   empty model takes everything). `cursor`: the model's column holding the
   cursor, when it is not `column` itself. #}
{% macro incremental_window(column, lookback_hours, cursor=none) -%}
    {%- set cursor = cursor or column -%}
    ({{ column }} is null or {{ column }} >= (
        select
            coalesce(
                {{ dbt.dateadd('hour', -1 * (lookback_hours | int), 'max(' ~ cursor ~ ')') }},
                cast('1900-01-01' as timestamp)
            )
        from {{ this }}
    ))
{%- endmacro %}
