-- Customers whose days since their last completed order and average completed
-- order total fall in a cell of seeds/dormant_coupon_matrix (min inclusive, max
-- exclusive, empty max = open). The cell gives the coupon value. entered_at =
-- the moment they entered their recency bucket (last order + min_days days).
-- A customer with no completed order (an imported customer without orders, an
-- account that never bought) has been inactive since their creation: recency
-- counts from created_at, with an empty basket (0) and no last_order_at.

with

buyers as (
    select
        customer_id,
        last_order_at,
        last_order_at as inactive_since,
        recency_days,
        average_order_value
    from {{ ref('int_customer_orders_summarized') }}
),

never_bought as (
    select
        customer_id,
        cast(null as {{ dbt.type_timestamp() }}) as last_order_at,
        created_at as inactive_since,
        {{ dbt.datediff('cast(created_at as date)', as_of_date(), 'day') }} as recency_days,
        cast(0 as decimal(12, 2)) as average_order_value
    from {{ ref('customers') }}
    where
        created_at <= {{ as_of_ts() }}
        and customer_id not in (select buyers.customer_id from buyers)
),

summaries as (
    select * from buyers
    union all
    select * from never_bought
),

matrix as (
    select
        recency_bucket,
        min_days,
        max_days,
        basket_bucket,
        min_basket,
        max_basket,
        coupon_value
    from {{ ref('dormant_coupon_matrix') }}
),

placed as (
    select
        summaries.*,
        matrix.recency_bucket,
        matrix.min_days,
        matrix.basket_bucket,
        matrix.coupon_value,
        row_number() over (
            partition by summaries.customer_id
            order by matrix.min_days desc, matrix.min_basket desc
        ) as cell_rank
    from summaries
    inner join matrix
        on
            summaries.recency_days >= matrix.min_days
            and (matrix.max_days is null or summaries.recency_days < matrix.max_days)
            and summaries.average_order_value >= matrix.min_basket
            and (matrix.max_basket is null or summaries.average_order_value < matrix.max_basket)
)

select
    customer_id as person_id,
    {{ dbt.dateadd('day', 'min_days', 'cast(cast(inactive_since as date) as ' ~ dbt.type_timestamp() ~ ')') }}
        as entered_at,
    recency_bucket,
    basket_bucket,
    cast(recency_days as integer) as days_since_last_order,
    cast(average_order_value as decimal(12, 2)) as average_basket,
    cast(coupon_value as decimal(12, 2)) as coupon_value,
    last_order_at
from placed
where cell_rank = 1
