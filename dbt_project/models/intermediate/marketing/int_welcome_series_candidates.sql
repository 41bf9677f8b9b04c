-- New subscribers (contact_policy: subscribed, double opt-in confirmed) during
-- their first welcome_series_length_days days, at one step at a time: the
-- latest step of seeds/welcome_series_steps whose day_offset days have elapsed
-- since the confirmation (elapsed time, not calendar days). entered_at =
-- confirmation + day_offset days (when the step started).

with

subscribers as (
    select
        person_id,
        double_opt_in_confirmed_at as subscribed_at
    from {{ ref('contact_policy') }}
    where
        consent_status = 'subscribed'
        and double_opt_in_confirmed_at is not null
        and double_opt_in_confirmed_at <= {{ as_of_ts() }}
        and double_opt_in_confirmed_at
        > {{ dbt.dateadd('day', -1 * var('welcome_series_length_days'), as_of_ts()) }}
),

steps as (
    select
        step,
        day_offset,
        content,
        coupon_value
    from {{ ref('welcome_series_steps') }}
),

reached as (
    select
        subscribers.person_id,
        subscribers.subscribed_at,
        steps.step,
        steps.day_offset,
        steps.content,
        steps.coupon_value,
        row_number() over (partition by subscribers.person_id order by steps.step desc) as step_rank
    from subscribers
    inner join steps
        on {{ dbt.dateadd('day', 'steps.day_offset', 'subscribers.subscribed_at') }} <= {{ as_of_ts() }}
)

select
    person_id,
    {{ dbt.dateadd('day', 'day_offset', 'subscribed_at') }} as entered_at,
    subscribed_at,
    cast(step as integer) as step,
    content as step_content,
    cast(coupon_value as decimal(12, 2)) as coupon_value
from reached
where step_rank = 1
