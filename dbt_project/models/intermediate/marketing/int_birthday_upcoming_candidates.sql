-- Customers whose next birthday (on or after the as_of date, UTC calendar days)
-- is at most birthday_lookahead_days away (0 = today). Born on 29 February: the
-- birthday falls on 28 February in non-leap years. entered_at = midnight of the
-- day the birthday came within the lookahead.

with

customers as (
    select
        customer_id,
        birth_date
    from {{ ref('customers') }}
    where birth_date is not null
),

this_year as (
    select
        customer_id,
        birth_date,
        cast({{ dbt.dateadd(
            'year',
            'extract(year from ' ~ as_of_date() ~ ') - extract(year from birth_date)',
            'birth_date'
        ) }} as date) as birthday_this_year
    from customers
),

next_birthdays as (
    select
        customer_id,
        birth_date,
        case
            when birthday_this_year >= {{ as_of_date() }} then birthday_this_year
            else cast({{ dbt.dateadd(
                'year',
                'extract(year from ' ~ as_of_date() ~ ') - extract(year from birth_date) + 1',
                'birth_date'
            ) }} as date)
        end as next_birthday
    from this_year
),

upcoming as (
    select
        next_birthdays.*,
        {{ dbt.datediff(as_of_date(), 'next_birthday', 'day') }} as days_until
    from next_birthdays
)

select
    customer_id as person_id,
    cast(
        {{ dbt.dateadd('day', -1 * var('birthday_lookahead_days'), 'next_birthday') }}
        as {{ dbt.type_timestamp() }}
    ) as entered_at,
    next_birthday,
    cast(days_until as integer) as days_until_birthday,
    cast(extract(year from next_birthday) - extract(year from birth_date) as integer) as age_turning
from upcoming
where days_until <= {{ var('birthday_lookahead_days') }}
