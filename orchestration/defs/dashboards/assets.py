"""The measurement dashboard as an asset: re-rendered after the metric marts.

(No ``from __future__ import annotations`` here: Dagster reads the config
class from the real annotation.)
"""

import dagster as dg

from activations.dashboards.queries import MARTS_READ
from activations.dashboards.render import render_dashboard
from activations.paths import PROJECT_ROOT
from activations.sync import source

#: the dbt metric marts the page reads (asset keys: metrics/<model>, the schema folder)
METRIC_MARTS = MARTS_READ


class DashboardConfig(dg.Config):
    out: str = str(PROJECT_ROOT / "out" / "dashboard.html")
    warehouse: str | None = None  # default: DUCKDB_PATH, as dbt uses


@dg.asset(
    key=["dashboards", "email_programs"],
    group_name="metrics",
    deps=[dg.AssetKey(["metrics", name]) for name in METRIC_MARTS],
    owners=["team:marketing-analytics"],
    kinds={"html"},
    pool="duckdb",
    automation_condition=dg.AutomationCondition.eager(),
    description="One self-contained HTML page of what each email program earned.",
)
def email_programs_dashboard(config: DashboardConfig) -> dg.MaterializeResult:
    source.prepare_marts(config.warehouse)  # marts on Spark: copied into the DuckDB file first
    path = render_dashboard(config.warehouse, config.out)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "size_bytes": path.stat().st_size,
        }
    )
