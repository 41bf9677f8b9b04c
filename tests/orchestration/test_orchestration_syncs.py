"""Sync assets materialised for real: a copy of the built warehouse, the ESP
sandbox on loopback, Dagster's in-process executor."""

from __future__ import annotations

from typing import Any

import dagster as dg
import pytest

from activations.sync.specs import SyncSpec, get_sync
from orchestration.components.audience_sync import (
    build_sync_assets,
    campaign_job_name,
    sync_key,
    sync_plan_key,
)
from orchestration.lib.resources import WarehouseResource

SYNC = "dormant_customers_mailchimp"  # mirror mode: people leave the list with the audience


def _assets(spec: SyncSpec) -> list[dg.AssetsDefinition]:
    return build_sync_assets(spec, dg.AssetKey(["audiences", spec.audience_table]))


def _resources(warehouse) -> dict[str, Any]:
    return {"warehouse": WarehouseResource(target=str(warehouse.path))}


def _metadata(result: dg.ExecuteInProcessResult, key: dg.AssetKey) -> dict[str, Any]:
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == key]
    assert len(events) == 1, f"{key.to_user_string()} materialized {len(events)} times"
    return {k: v.value for k, v in events[0].materialization.metadata.items()}


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }


def _mailchimp_writes(sandbox) -> int:
    return sum(1 for r in sandbox.requests("mailchimp") if r.get("method") != "GET")


def _confirmed(warehouse, sync: str) -> int:
    rows = warehouse.query(
        "select count(*) from activations.sync_state where sync_name = ?", [sync]
    )
    return int(rows[0][0])


def test_sync_asset_end_to_end_against_the_sandbox(warehouse_copy, sandbox) -> None:
    spec = get_sync(SYNC)
    result = dg.materialize(_assets(spec), resources=_resources(warehouse_copy))
    assert result.success
    plan = _metadata(result, sync_plan_key(SYNC))
    sent = _metadata(result, sync_key(SYNC))
    assert plan["planned"] > 0
    assert sent["planned"] == sent["sent"] == sent["confirmed"] == plan["planned"]
    assert sent["rejected"] == 0 and sent["removed"] == 0
    assert sent["status"] == "succeeded"
    assert sent["duration_s"] > 0
    assert isinstance(sent["job_ids"], list)
    assert sent["link"] == sandbox.base_url + "/"
    assert _checks(result) == {
        f"sync_plan/{SYNC}:guards": True,
        f"sync/{SYNC}:rejects": True,
    }
    assert _mailchimp_writes(sandbox) > 0
    assert _confirmed(warehouse_copy, SYNC) == sent["confirmed"]

    # nothing sent twice: the next run finds nothing to do
    writes = _mailchimp_writes(sandbox)
    again = dg.materialize(_assets(spec), resources=_resources(warehouse_copy))
    second = _metadata(again, sync_key(SYNC))
    assert (second["planned"], second["sent"]) == (0, 0)
    assert _mailchimp_writes(sandbox) == writes


def test_blocking_guard_stops_a_sync_that_would_empty_most_of_the_list(
    warehouse_copy, sandbox
) -> None:
    spec = get_sync(SYNC)
    assert dg.materialize(_assets(spec), resources=_resources(warehouse_copy)).success
    members = _confirmed(warehouse_copy, SYNC)
    assert members > 10

    # the audience loses nine in ten people (e.g. a broken upstream load)
    con = warehouse_copy.connect()
    try:
        con.execute(
            "delete from audiences.dormant_customers where person_id not in "
            "(select person_id from audiences.dormant_customers order by person_id "
            f"limit {members // 10})"
        )
    finally:
        con.close()
    writes = _mailchimp_writes(sandbox)
    result = dg.materialize(
        _assets(spec), resources=_resources(warehouse_copy), raise_on_error=False
    )
    assert _checks(result) == {f"sync_plan/{SYNC}:guards": False}
    evaluation = result.get_asset_check_evaluations()[0]
    assert "would remove" in (evaluation.description or "")
    assert not [
        e for e in result.get_asset_materialization_events() if e.asset_key == sync_key(SYNC)
    ]
    assert _mailchimp_writes(sandbox) == writes  # nothing was sent or removed
    assert _confirmed(warehouse_copy, SYNC) == members

    # delivering alone still refuses (the engine's own guard), unless forced
    alone = dg.materialize(
        _assets(spec),
        selection=[sync_key(SYNC)],
        resources=_resources(warehouse_copy),
        raise_on_error=False,
    )
    assert not alone.success
    failure = alone.get_step_failure_events()[0]
    assert "blocked by a guard" in failure.step_failure_data.user_failure_data.description
    forced = dg.materialize(
        _assets(spec),
        selection=[sync_key(SYNC)],
        resources=_resources(warehouse_copy),
        run_config={"ops": {f"sync__{SYNC}": {"config": {"force": True}}}},
    )
    assert _metadata(forced, sync_key(SYNC))["removed"] >= members - members // 10


def test_forced_campaign_sends_although_the_guard_trips(
    defs: dg.Definitions, warehouse_copy, sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``force: true`` at launch: the guards check only warns, the delivery goes
    ahead in the same run (the campaign job launched for plan and delivery only)."""
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_copy.path))
    spec = get_sync(SYNC)
    assert dg.materialize(_assets(spec), resources=_resources(warehouse_copy)).success
    members = _confirmed(warehouse_copy, SYNC)
    con = warehouse_copy.connect()
    try:
        con.execute("delete from audiences.dormant_customers")
    finally:
        con.close()
    job = defs.resolve_job_def(campaign_job_name(SYNC))
    result = job.execute_in_process(
        run_config={"force": True}, asset_selection=[sync_plan_key(SYNC), sync_key(SYNC)]
    )
    assert result.success
    [guards] = [e for e in result.get_asset_check_evaluations() if e.check_name == "guards"]
    assert not guards.passed
    assert guards.severity == dg.AssetCheckSeverity.WARN
    assert "forced" in (guards.description or "")
    sent = _metadata(result, sync_key(SYNC))
    assert sent["forced"] is True
    assert sent["removed"] == members


def test_one_off_campaign_rebuilds_the_audience_through_dbt_and_sends_it(
    defs: dg.Definitions, warehouse_copy, sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """The campaign job's dbt step rebuilds the audience as of the launch
    config's moment, then the sync plans and sends (here without the upstream
    models, to keep the test short)."""
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_copy.path))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    con = warehouse_copy.connect()
    try:
        con.execute("delete from audiences.dormant_customers")
    finally:
        con.close()
    audience = dg.AssetKey(["audiences", "dormant_customers"])
    job = defs.resolve_job_def(campaign_job_name(SYNC))
    result = job.execute_in_process(
        run_config={"as_of": warehouse_copy.vars["as_of"]},
        asset_selection=[audience, sync_plan_key(SYNC), sync_key(SYNC)],
    )
    assert result.success
    keys = [e.asset_key for e in result.get_asset_materialization_events()]
    assert keys == [audience, sync_plan_key(SYNC), sync_key(SYNC)]
    sent = _metadata(result, sync_key(SYNC))
    assert sent["sent"] == sent["confirmed"] > 0
    assert sent["sendable"] > 0
    assert _mailchimp_writes(sandbox) > 0


def test_dbt_assets_run_through_dagster_as_of_a_date(
    defs: dg.Definitions, warehouse_copy, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """The dbt step materialises a selected audience (with its checks) on the
    warehouse DUCKDB_PATH names, as of the moment the run config says."""
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_copy.path))
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "dbt_target"))
    key = dg.AssetKey(["audiences", "dormant_customers"])
    con = warehouse_copy.connect()
    try:
        con.execute("delete from audiences.dormant_customers")
    finally:
        con.close()
    result = dg.materialize(
        [defs.resolve_assets_def(key)],
        selection=[key],
        run_config={"ops": {"dbt_build": {"config": {"as_of": warehouse_copy.vars["as_of"]}}}},
    )
    assert result.success
    assert [e.asset_key for e in result.get_asset_materialization_events()] == [key]
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    rows = warehouse_copy.query("select count(*) from audiences.dormant_customers")[0][0]
    assert rows > 0
    # the build's one as_of is recorded with it
    recorded = warehouse_copy.query(
        "select arg_max(as_of, finished_at) from activations.dbt_builds"
        " where model_name = 'dormant_customers'"
    )[0][0]
    assert str(recorded) == warehouse_copy.vars["as_of"]


def test_dbt_step_rejects_a_bad_as_of_before_dbt_runs(
    defs: dg.Definitions, warehouse_copy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DUCKDB_PATH", str(warehouse_copy.path))
    key = dg.AssetKey(["audiences", "dormant_customers"])
    result = dg.materialize(
        [defs.resolve_assets_def(key)],
        selection=[key],
        run_config={"ops": {"dbt_build": {"config": {"as_of": "next tuesday"}}}},
        raise_on_error=False,
    )
    assert not result.success
    failure = result.get_step_failure_events()[0]
    description = failure.step_failure_data.user_failure_data.description
    assert "as_of 'next tuesday' is not a date or a time" in description
