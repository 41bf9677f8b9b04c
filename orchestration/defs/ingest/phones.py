"""``shop/phone_numbers``: every customer phone as typed, normalised to E.164
(``raw.phone_numbers``, the dbt source ``shop.phone_numbers`` that
``stg_shop__customers`` joins). Follows ``shop/customers`` (only new
(phone, country) pairs are parsed); the dbt step runs the same function
before every build as well (``ActivationsDbtProjectComponent.execute``), so a
build never misses a number landed since.

(No ``from __future__ import annotations``: Dagster reads the signature.)
"""

import dagster as dg

from activations.errors import UserError
from activations.warehouse.phones import normalise_phones
from activations.warehouse.raw_schema import RAW_SOURCES
from orchestration.lib.resources import WarehouseResource

PHONE_KEY = dg.AssetKey([RAW_SOURCES["phone_numbers"], "phone_numbers"])


@dg.asset(
    key=PHONE_KEY,
    deps=[dg.AssetKey([RAW_SOURCES["customers"], "customers"])],
    group_name="raw",
    owners=["team:data-engineering"],
    kinds={"duckdb", "python"},
    pool="duckdb",
    automation_condition=dg.AutomationCondition.eager(),
    description="raw.phone_numbers: customer phones as typed -> E.164 (phonenumbers), "
    "invalid ones with a reason; only new (phone, country) pairs.",
)
def phone_numbers(warehouse: WarehouseResource) -> dg.MaterializeResult:
    try:
        with warehouse.connection() as conn:
            added = normalise_phones(conn)
    except UserError as exc:
        raise dg.Failure(description=str(exc)) from None
    return dg.MaterializeResult(metadata={"new_pairs": added})
