"""Declarative automation: one sensor evaluates every asset's condition
(dbt models on their cadence, syncs after their audience, the dashboard after
the metric marts). Running by default, so `make dev` keeps audiences fresh."""

import dagster as dg

automation = dg.AutomationConditionSensorDefinition(
    "activations_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Refreshes dbt models on their cadence and syncs after their audience.",
)
