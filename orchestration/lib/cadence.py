"""Refresh cadences: one vocabulary for dbt models and syncs.

A cadence is ``hourly``, ``daily`` or a cron line. It becomes an automation
condition (when to refresh) and a freshness policy (when the asset is late).
"""

from __future__ import annotations

import re
from datetime import timedelta

import dagster as dg

from activations.errors import UserError

CRONS = {"hourly": "0 * * * *", "daily": "0 6 * * *"}
# how late an asset may be before it warns / fails, per named cadence
FRESHNESS = {
    "hourly": (timedelta(minutes=90), timedelta(hours=2)),
    "daily": (timedelta(hours=25), timedelta(hours=26)),
}
DEFAULT_CADENCE = "daily"
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/?LW#-]+$")


def cron_for(cadence: str) -> str:
    """The cron line of a cadence (``hourly``, ``daily`` or a cron line itself)."""
    cron = CRONS.get(cadence, cadence)
    fields = cron.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise UserError(
            f"cadence {cadence!r} is neither hourly, daily nor a valid cron line",
            hint="set meta.cadence (dbt) or schedule: (sync declaration) to hourly, daily "
            "or a cron line such as '30 7 * * *'",
        )
    return cron


def refresh_condition(cadence: str, *, on_new_data: bool) -> dg.AutomationCondition:
    """Refresh after each tick of the cadence (and, if ``on_new_data``, as soon
    as an upstream asset is updated), never while it or an upstream asset runs."""
    cron = cron_for(cadence)
    trigger = dg.AutomationCondition.cron_tick_passed(cron) | dg.AutomationCondition.newly_missing()
    label = cadence if cadence in CRONS else f"cron {cron}"
    if on_new_data:
        trigger = trigger | dg.AutomationCondition.any_deps_updated()
        label += " or on new data"
    return (
        trigger.since_last_handled()
        & ~dg.AutomationCondition.in_progress()
        & ~dg.AutomationCondition.any_deps_in_progress()
    ).with_label(label)


def follow_condition(cadence: str | None) -> dg.AutomationCondition:
    """Run after upstream. With a cadence: on each of its ticks, once every
    upstream asset has been updated since that tick (``on_cron``), so a daily
    sync of an hourly audience runs once a day and an hourly sync of a daily
    audience waits for the audience. With none: at every upstream update (eager)."""
    if cadence is None:
        return dg.AutomationCondition.eager()
    cron = cron_for(cadence)
    label = cadence if cadence in CRONS else f"cron {cron}"
    return dg.AutomationCondition.on_cron(cron).with_label(f"{label}, after upstream")


def freshness_policy(cadence: str) -> dg.FreshnessPolicy:
    """Late after 1.5 h (fails after 2 h) for hourly, 25 h (26 h) for daily; a
    cron cadence is late once its tick passed with no refresh within 1 h."""
    if cadence in FRESHNESS:
        warn, fail = FRESHNESS[cadence]
        return dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn)
    return dg.FreshnessPolicy.cron(
        deadline_cron=cron_for(cadence), lower_bound_delta=timedelta(hours=1)
    )
