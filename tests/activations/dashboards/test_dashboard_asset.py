"""The Dagster asset renders the same page as the command line (direct invocation)."""

from __future__ import annotations

import dagster as dg

from activations.paths import DBT_PROJECT_DIR
from orchestration.defs.dashboards.assets import (
    METRIC_MARTS,
    DashboardConfig,
    email_programs_dashboard,
)


def test_asset_renders_the_dashboard_and_reports_its_path(built_warehouse, tmp_path):
    out = tmp_path / "dashboard.html"
    result = email_programs_dashboard(
        DashboardConfig(out=str(out), warehouse=str(built_warehouse.path))
    )
    assert isinstance(result, dg.MaterializeResult)
    assert result.metadata["path"].value == str(out.resolve())
    assert "<svg" in out.read_text(encoding="utf-8")


def test_asset_follows_every_metric_mart():
    spec = email_programs_dashboard.specs_by_key[dg.AssetKey(["dashboards", "email_programs"])]
    assert {d.asset_key for d in spec.deps} == {dg.AssetKey(["metrics", m]) for m in METRIC_MARTS}
    assert email_programs_dashboard.op.pool == "duckdb"
    # the page's own list of the marts it reads is every model in marts/metrics
    models = {p.stem for p in (DBT_PROJECT_DIR / "models" / "marts" / "metrics").glob("*.sql")}
    assert set(METRIC_MARTS) == models
