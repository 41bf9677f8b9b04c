{# Incremental models (append-mostly event streams). An incremental run takes
   the rows whose `column` is at or after the latest value already loaded into
   the model, minus `lookback_hours`: the load cursor (received_at for track
   calls) or the event time (occurred_at for email events, which carry no load
   time). A row taken again replaces itself (delete+insert on the model's
   unique_key), so the lookback only widens the window, never duplicates. A
   row that arrives later than the lookback behind the cursor is missed until
   the next `--full-refresh`. Rows without a value are always taken (an
   empty model takes everything). `cursor`: the model's column holding the
   cursor, when it is not `column` itself.

   Spark (plain parquet tables: no delete, no merge) appends instead
   (incremental_strategy()); `key` = [source column, model column] of the
   unique key then leaves out the rows of the window already loaded, so the
   lookback still never duplicates a row. An event row never changes once
   landed, so a row taken again equals the one loaded. #}
{% macro incremental_window(column, lookback_hours, cursor=none, key=none) -%}
    {%- set cursor = cursor or column -%}
    {%- set since -%}
        (
        select
            coalesce(
                {{ dbt.dateadd('hour', -1 * (lookback_hours | int), 'max(' ~ cursor ~ ')') }},
                cast('1900-01-01' as timestamp)
            )
        from {{ this }}
        )
    {%- endset -%}
    {#- The window's start is read once, when the model runs, and written into
        the SQL as a literal: compared with a subquery, the filter is a join
        evaluated after reading every column of every row (the JSON of 67M
        calls at tier M: seconds per model each hour); with a constant the
        database filters while scanning and skips the blocks before it. #}
    {%- if execute -%}
        {%- set found = run_query('select ' ~ since).columns[0].values()[0] -%}
        {%- set since = "cast('" ~ found ~ "' as timestamp)" -%}
    {%- endif -%}
    ({{ column }} is null or {{ column }} >= {{ since }})
    {%- if key and incremental_strategy() == 'append' %}
    and {{ key[0] }} not in (
        select {{ key[1] }} from {{ this }} where {{ cursor }} >= {{ since }}
    )
    {%- endif %}
{%- endmacro %}

{# The incremental strategy of the event models: delete+insert on the model's
   unique_key (DuckDB, PostgreSQL); append on Spark, whose plain parquet tables
   cannot delete rows (merge needs Delta Lake or Iceberg tables: README, Spark).
   A plain function of the target, so model configs may call it. #}
{% macro incremental_strategy() -%}
    {{ return('append' if target.type == 'spark' else 'delete+insert') }}
{%- endmacro %}

{# The browsers whose rows int_events_identified replaced in this run: identified
   in the window (an identify call, or a call with user_id): their earlier calls
   may now belong to a customer. int_events_identified's identified_again
   (cursor received_at); the other models give their own cursor (`cursor`: their
   column holding the latest received_at they summarised), which is never later
   than int_events_identified's: the window is the same or wider, never narrower.
   For the summaries built from int_events_identified (carts, cart lines,
   product views, sessions): each takes again every group (cart, browser) a
   row received in the window or a browser identified again belongs to. A
   model calling it in its is_incremental() branch declares
   `-- depends_on: {{ ref('stg_app__identifies') }}` and
   `-- depends_on: {{ ref('stg_app__events') }}` (parse does not see it). #}
{% macro reidentified_browsers(cursor) -%}
    select anonymous_id
    from {{ ref('stg_app__identifies') }}
    where
        {{ incremental_window('identified_at', var('events_lookback_hours'), cursor=cursor) }}
    union
    select anonymous_id
    from {{ ref('stg_app__events') }}
    where
        user_id is not null
        and {{ incremental_window('received_at', var('events_lookback_hours'), cursor=cursor) }}
{%- endmacro %}

{# The browser of a call: its anonymous_id, else (a server-side call through
   the collector may carry only a user_id) 'user:' and its user_id. The key
   per browser of int_product_views_summarized and int_sessions_sessionized;
   never null on a call the collector landed. #}
{% macro browser_id(anonymous_id='anonymous_id', user_id='user_id') -%}
    coalesce({{ anonymous_id }}, {{ dbt.concat(["'user:'", user_id]) }})
{%- endmacro %}

{# The carts an incremental run of the cart summaries takes again: those with
   a call received in the window, and those of the browsers identified in it
   (reidentified_browsers). Two selects (union), not one filter with `or ...
   in (...)`: that kept the window out of the scan and ran out of memory
   beside the other hourly models at tier M. #}
{% macro touched_carts(cursor) -%}
    select cart_id
    from {{ ref('int_events_identified') }}
    where
        cart_id is not null
        and {{ incremental_window('received_at', var('events_lookback_hours'), cursor=cursor) }}
    union
    select events.cart_id
    from {{ ref('int_events_identified') }} as events
    inner join ({{ reidentified_browsers(cursor) }}) as identified
        on events.anonymous_id = identified.anonymous_id
    where events.cart_id is not null
{%- endmacro %}

{# A cart line's net quantity: added less removed (Product Added / Product
   Removed calls; `quantity` already counts a missing quantity as 1). One rule
   for int_cart_lines_summarized and the cart abandoners' late-cart fallback. #}
{% macro net_cart_quantity(event_name='event_name', quantity='quantity') -%}
    sum(
        case
            when {{ event_name }} = 'Product Removed' then -{{ quantity }}
            else {{ quantity }}
        end
    )
{%- endmacro %}
