{#- Attributed revenue by program, month and attribution model, with
    month-over-month growth. Every month that has completed orders appears for
    every program (zero when nothing was attributed) so growth compares
    consecutive months. -#}

with

months as (
    select distinct
        cast({{ dbt.date_trunc('month', 'placed_at') }} as date) as month_start
    from {{ ref('orders') }}
    where is_completed
),

programs as (
    select distinct program from {{ ref('attributed_orders') }}
    union
    select distinct program from {{ ref('stg_esp__campaigns') }}
    where program is not null
),

credits as (
    select
        cast({{ dbt.date_trunc('month', 'placed_at') }} as date) as month_start,
        program,
        order_id,
        first_touch_credit,
        last_touch_credit,
        linear_credit,
        position_based_credit
    from {{ ref('attributed_orders') }}
),

{% set models = {
    'first_touch': 'first_touch_credit',
    'last_touch': 'last_touch_credit',
    'linear': 'linear_credit',
    'position_based': 'position_based_credit',
} %}

by_model as (
    {% for model, column in models.items() %}
        select
            month_start,
            program,
            '{{ model }}' as attribution_model,
            sum({{ column }}) as attributed_revenue,
            count(distinct case when {{ column }} > 0 then order_id end)
                as attributed_orders
        from credits
        group by month_start, program
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

grid as (
    {% for model in models %}
        select
            months.month_start,
            programs.program,
            '{{ model }}' as attribution_model
        from months
        cross join programs
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

filled as (
    select
        grid.month_start,
        grid.program,
        grid.attribution_model,
        cast(coalesce(by_model.attributed_revenue, 0) as decimal(14, 2))
            as attributed_revenue,
        coalesce(by_model.attributed_orders, 0) as attributed_orders
    from grid
    left join by_model
        on
            grid.month_start = by_model.month_start
            and grid.program = by_model.program
            and grid.attribution_model = by_model.attribution_model
),

with_previous as (
    select
        filled.*,
        lag(filled.attributed_revenue) over (
            partition by filled.program, filled.attribution_model
            order by filled.month_start
        ) as previous_month_revenue
    from filled
)

select
    month_start,
    program,
    attribution_model,
    attributed_revenue,
    attributed_orders,
    previous_month_revenue,
    cast(
        (attributed_revenue - previous_month_revenue)
        / nullif(previous_month_revenue, 0)
        as decimal(18, 6)
    ) as mom_growth
from with_previous
