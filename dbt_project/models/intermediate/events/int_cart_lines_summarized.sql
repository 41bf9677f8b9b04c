{{
    config(
        materialized=('table' if incremental_strategy() == 'append' else 'incremental'),
        incremental_strategy='delete+insert',
        unique_key='cart_id',
        on_schema_change='append_new_columns'
    )
}}
-- depends_on: {{ ref('stg_app__identifies') }}
-- depends_on: {{ ref('stg_app__events') }}
-- one row per cart and product of a known customer's cart: the quantity
-- added less the quantity removed (Product Added / Product Removed, a
-- missing quantity counts 1) and the highest price the calls carried
{# A table, incremental as int_carts_summarized: the carts with a call
    received in the window or of a browser identified in it get all their
    lines again (delete+insert by cart_id replaces every line of the cart;
    on Spark a table rebuilt whole). Lines whose quantity is 0 or less stay:
    readers keep quantity > 0. -#}

with

{% if is_incremental() %}
    changed_carts as (

        {{ touched_carts('last_received_at') }}

    ),
{% endif %}

line_events as (

    select
        cart_id,
        product_id,
        event_name,
        price,
        coalesce(quantity, 1) as quantity,
        received_at
    from {{ ref('int_events_identified') }}
    where
        event_name in ('Product Added', 'Product Removed')
        and cart_id is not null
        and product_id is not null
        and customer_id is not null
    {% if is_incremental() %}
        and cart_id in (select cart_id from changed_carts)
    {% endif %}

),

summarized as (

    select
        cart_id,
        product_id,
        {{ net_cart_quantity() }} as quantity,
        max(price) as event_price,
        max(received_at) as last_received_at
    from line_events
    group by cart_id, product_id

)

select * from summarized
