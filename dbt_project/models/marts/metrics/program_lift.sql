{#- Incremental effect of each program: the treated group (members not held
    out) against the control group. Outcome per person: completed orders placed
    in (entered_at, entered_at + lift_window_days], capped at as_of.
    Conversion: difference of proportions with an unpooled normal 95%
    interval. Revenue per person: difference of means with Welch's standard
    error, normal 95% interval. Incremental revenue = revenue-per-person
    difference x treated people. A program with no control members (nobody
    held out, e.g. the newsletter) gets null differences, intervals and
    incremental revenue and verdict 'no control group'. verdict reads the
    revenue-per-person interval: positive | negative | no difference yet, or
    no control group | no treated group | not enough data (a group of one). -#}
{%- set window_days = var('lift_window_days', 14) -%}
{%- set z95 = 1.959963985 -%}

with

members as (
    select * from {{ ref('int_program_members_reconstructed') }}
),

orders as (
    select
        customer_id,
        placed_at,
        total
    from {{ ref('orders') }}
    where is_completed and customer_id is not null
),

outcomes as (
    select
        members.program,
        members.person_id,
        members.is_control,
        count(orders.customer_id) as order_count,
        coalesce(sum(orders.total), 0) as revenue
    from members
    left join orders
        on
            members.person_id = orders.customer_id
            and members.entered_at < orders.placed_at
            and orders.placed_at
            <= {{ dbt.dateadd('day', window_days, 'members.entered_at') }}
            and orders.placed_at <= {{ as_of_ts() }}
    group by members.program, members.person_id, members.is_control
),

grouped as (
    select
        program,
        {% for group, flag in [('treated', 'false'), ('control', 'true')] %}
            sum(case when is_control = {{ flag }} then 1 else 0 end)
                as {{ group }}_people,
            sum(
                case
                    when is_control = {{ flag }} and order_count > 0 then 1 else
                        0
                end
            )
                as {{ group }}_converters,
            sum(case when is_control = {{ flag }} then revenue else 0 end)
                as {{ group }}_revenue,
            avg(
                case
                    when
                        is_control = {{ flag }}
                        then cast(revenue as {{ type_double() }})
                end
            )
                as {{ group }}_rpp,
            var_samp(
                case
                    when
                        is_control = {{ flag }}
                        then cast(revenue as {{ type_double() }})
                end
            )
                as {{ group }}_revenue_variance{% if not loop.last %},
            {% endif %}
        {% endfor %}
    from outcomes
    group by program
),

rates as (
    select
        grouped.*,
        cast(grouped.treated_converters as {{ type_double() }})
        / nullif(grouped.treated_people, 0) as treated_rate,
        cast(grouped.control_converters as {{ type_double() }})
        / nullif(grouped.control_people, 0) as control_rate
    from grouped
),

differences as (
    select
        rates.*,
        rates.treated_rate - rates.control_rate as conversion_difference,
        sqrt(
            rates.treated_rate
            * (1 - rates.treated_rate)
            / nullif(rates.treated_people, 0)
            + rates.control_rate
            * (1 - rates.control_rate)
            / nullif(rates.control_people, 0)
        ) as conversion_se,
        rates.treated_rpp - rates.control_rpp as rpp_difference,
        sqrt(
            rates.treated_revenue_variance / nullif(rates.treated_people, 0)
            + rates.control_revenue_variance / nullif(rates.control_people, 0)
        ) as rpp_se
    from rates
)

select
    program,
    treated_people,
    control_people,
    treated_converters,
    control_converters,
    cast(treated_revenue as decimal(14, 2)) as treated_revenue,
    cast(control_revenue as decimal(14, 2)) as control_revenue,
    cast(treated_rate as decimal(18, 6)) as treated_conversion_rate,
    cast(control_rate as decimal(18, 6)) as control_conversion_rate,
    cast(conversion_difference as decimal(18, 6)) as conversion_difference,
    cast(conversion_difference - {{ z95 }} * conversion_se as decimal(18, 6))
        as conversion_difference_low,
    cast(conversion_difference + {{ z95 }} * conversion_se as decimal(18, 6))
        as conversion_difference_high,
    cast(treated_rpp as decimal(18, 6)) as treated_revenue_per_person,
    cast(control_rpp as decimal(18, 6)) as control_revenue_per_person,
    cast(rpp_difference as decimal(18, 6)) as revenue_per_person_difference,
    cast(rpp_difference - {{ z95 }} * rpp_se as decimal(18, 6))
        as revenue_per_person_difference_low,
    cast(rpp_difference + {{ z95 }} * rpp_se as decimal(18, 6))
        as revenue_per_person_difference_high,
    cast(rpp_difference * treated_people as decimal(14, 2))
        as incremental_revenue,
    {{ window_days }} as window_days,
    case
        when control_people = 0 then 'no control group'
        when treated_people = 0 then 'no treated group'
        when control_people < 2 or treated_people < 2 then 'not enough data'
        when rpp_difference - {{ z95 }} * rpp_se > 0 then 'positive'
        when rpp_difference + {{ z95 }} * rpp_se < 0 then 'negative'
        else 'no difference yet'
    end as verdict
from differences
