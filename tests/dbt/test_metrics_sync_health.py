"""sync_health after a real sync: the engine's state tables feed the mart and
the dashboard (a private copy of the built warehouse, a real file sync)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from activations.dashboards import render_dashboard
from activations.paths import PROJECT_ROOT

SYNC = "rfm_segments_files"  # the file destination: no server needed


def test_sync_health_counts_a_real_sync_and_the_dashboard_shows_it(warehouse_copy, tmp_path):
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "activations"),
            "run",
            SYNC,
            "--syncs",
            str(PROJECT_ROOT / "syncs"),
            "--warehouse",
            str(warehouse_copy.path),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **warehouse_copy.env},
    )
    assert done.returncode == 0, done.stdout + done.stderr

    # a run stopped by SIGTERM is recorded 'interrupted' (exit 6): counted apart
    with warehouse_copy.connect() as con:
        con.execute(
            "insert into activations.sync_runs (run_id, sync_name, started_at, status, planned, "
            "sent, confirmed, rejected, duration_s) select run_id || '-stopped', sync_name, "
            "started_at, 'interrupted', planned, 0, 0, 0, 0.5 from activations.sync_runs "
            "where sync_name = ? and status = 'succeeded' limit 1",
            [SYNC],
        )
    warehouse_copy.dbt("run", select=["sync_health"])
    (interrupted, succeeded) = warehouse_copy.query(
        "select sum(interrupted_runs), sum(succeeded_runs) from metrics.sync_health "
        "where sync_name = ?",
        [SYNC],
    )[0]
    assert (interrupted, succeeded) == (1, 1)
    (runs, confirmed, rejected) = warehouse_copy.query(
        "select count(*), sum(confirmed), sum(rejected) from activations.sync_runs "
        "where sync_name = ? and status <> 'dry_run'",
        [SYNC],
    )[0]
    (m_runs, m_delivered, m_rejected, timed) = warehouse_copy.query(
        "select sum(runs), sum(records_delivered), sum(records_rejected), "
        "sum(deliveries_timed) from metrics.sync_health where sync_name = ?",
        [SYNC],
    )[0]
    assert (m_runs, m_delivered, m_rejected) == (runs, confirmed, rejected)
    assert confirmed > 0
    (expected_timed,) = warehouse_copy.query(
        "select count(*) from activations.sync_changelog c "
        "join audiences.rfm_segments a on a.person_id = c.record_key "
        "where c.sync_name = ? and c.action in ('added', 'changed', 'sent') "
        "and c.changed_at >= a.entered_at",
        [SYNC],
    )[0]
    assert timed == expected_timed > 0

    page = render_dashboard(warehouse_copy.path, tmp_path / "dashboard.html")
    html = page.read_text(encoding="utf-8")
    assert 'data-available="true"' in html
    assert f'data-field="records_delivered" data-value="{m_delivered}"' in html
