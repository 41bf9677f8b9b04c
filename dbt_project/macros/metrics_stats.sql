{# Statistics for the metric marts, in portable SQL (DuckDB and PostgreSQL):
   only abs, exp, sqrt, floor and arithmetic on double precision (type_double()). #}

{# erfc(|x|) by Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7):
   erf(x) = 1 - t*(a1 + t*(a2 + t*(a3 + t*(a4 + t*a5)))) * exp(-x^2),
   t = 1 / (1 + p*x), for x >= 0. #}
{% macro metrics_erfc_abs(x) -%}
    {%- set ax = "abs(cast(" ~ x ~ " as " ~ type_double() ~ "))" -%}
    {%- set t = "(1.0 / (1.0 + 0.3275911 * " ~ ax ~ "))" -%}
    ({{ t }} * (0.254829592 + {{ t }} * (-0.284496736 + {{ t }} * (1.421413741
        + {{ t }} * (-1.453152027 + {{ t }} * 1.061405429))))
        * exp(-({{ ax }} * {{ ax }})))
{%- endmacro %}

{# Two-sided p-value of a standard normal statistic z: P(|Z| >= |z|) = erfc(|z| / sqrt(2)). #}
{% macro metrics_two_sided_p_value(z) -%}
    {{ metrics_erfc_abs("(" ~ z ~ ") / sqrt(2.0)") }}
{%- endmacro %}

{# Pooled two-proportion z statistic for successes x_a of n_a against x_b of n_b
   (positive when b's rate is higher); null when either sample is empty or the
   pooled rate is 0 or 1. #}
{% macro metrics_two_proportion_z(x_a, n_a, x_b, n_b) -%}
    (
        (cast({{ x_b }} as {{ type_double() }}) / nullif({{ n_b }}, 0)
            - cast({{ x_a }} as {{ type_double() }}) / nullif({{ n_a }}, 0))
        / nullif(sqrt(
            (cast({{ x_a }} + {{ x_b }} as {{ type_double() }}) / nullif({{ n_a }} + {{ n_b }}, 0))
            * (1.0 - cast({{ x_a }} + {{ x_b }} as {{ type_double() }}) / nullif({{ n_a }} + {{ n_b }}, 0))
            * (1.0 / nullif({{ n_a }}, 0) + 1.0 / nullif({{ n_b }}, 0))
        ), 0)
    )
{%- endmacro %}
