"""The Dagster definitions load, with the expected assets, checks, jobs,
schedules and sensors, and the policy the house style asks for. A syrupy
snapshot of every asset spec, job selection, schedule and sensor makes any
change to the graph show up in review (update: pytest --snapshot-update)."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import dagster as dg
import pytest

from activations.errors import UserError
from activations.paths import DBT_PROJECT_DIR, PROJECT_ROOT
from activations.sync.specs import SyncSpec, load_syncs
from activations.warehouse.dbt import HOURLY_VARS
from orchestration.components.audience_sync import (
    campaign_job_name,
    sync_condition,
    sync_key,
    sync_plan_key,
)
from orchestration.components.dbt_project import DbtRunConfig, run_vars
from orchestration.defs.ingest.assets import RAW_KEYS
from orchestration.defs.ingest.phones import PHONE_KEY

HOURLY_AUDIENCES = {"cart_abandoners", "browse_abandoners", "pending_payment"}
WRITERS_POOL = "duckdb"


def _manifest() -> dict:
    return json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())


def _audiences() -> set[str]:
    return {p.stem for p in (DBT_PROJECT_DIR / "models" / "marts" / "audiences").glob("*.sql")}


def test_every_layer_is_an_asset(asset_graph) -> None:
    keys = {k.to_user_string() for k in asset_graph.get_all_asset_keys()}
    for audience in _audiences():
        assert f"audiences/{audience}" in keys
    for name in ("core/customers", "core/contact_policy", "metrics/program_revenue"):
        assert name in keys
    assert "dashboards/email_programs" in keys
    for spec in load_syncs():
        assert sync_plan_key(spec.name) in asset_graph.get_all_asset_keys()
        assert sync_key(spec.name) in asset_graph.get_all_asset_keys()
        plan = asset_graph.get(sync_plan_key(spec.name))
        assert plan.parent_keys == {dg.AssetKey(["audiences", spec.audience_table])}
        assert asset_graph.get(sync_key(spec.name)).parent_keys == {sync_plan_key(spec.name)}


def test_ingest_keys_are_the_dbt_sources_so_lineage_connects(asset_graph) -> None:
    sources = {
        dg.AssetKey([s["source_name"], s["name"]])
        for s in _manifest()["sources"].values()
        if s["schema"] == "raw"
    }
    # raw.phone_numbers is landed by the phone normalisation asset, not by ingest
    assert set(RAW_KEYS) | {PHONE_KEY} == sources
    for key in [*RAW_KEYS, PHONE_KEY]:
        assert asset_graph.get(key).is_materializable, key
    staging = asset_graph.get(dg.AssetKey(["staging", "stg_shop__orders"]))
    assert staging.parent_keys == {dg.AssetKey(["shop", "orders"])}


def test_checks_dbt_tests_and_blocking_guards(defs: dg.Definitions, asset_graph) -> None:
    checks = asset_graph.asset_check_keys
    dbt_checks = [c for c in checks if c.name.startswith(("unique_", "not_null_"))]
    assert len(dbt_checks) > 20
    for spec in load_syncs():
        guards = dg.AssetCheckKey(sync_plan_key(spec.name), "guards")
        assert guards in checks
        plan_def = defs.resolve_assets_def(sync_plan_key(spec.name))
        assert [c.blocking for c in plan_def.check_specs if c.key == guards] == [True]
        assert dg.AssetCheckKey(sync_key(spec.name), "rejects") in checks


def test_cadence_automation_freshness_and_owners(asset_graph) -> None:
    for audience in _audiences():
        node = asset_graph.get(dg.AssetKey(["audiences", audience]))
        cadence = "hourly" if audience in HOURLY_AUDIENCES else "daily"
        assert node.tags["cadence"] == cadence, audience
        label = node.automation_condition.get_label()
        assert label == ("hourly or on new data" if cadence == "hourly" else "daily")
        assert node.freshness_policy is not None
        assert node.owners == ["team:lifecycle-marketing"]
        assert node.group_name == "audiences"
    for key in asset_graph.get_all_asset_keys():
        node = asset_graph.get(key)
        if node.is_materializable:
            assert node.owners, f"{key.to_user_string()} has no owner"
            assert node.group_name != "default", f"{key.to_user_string()} has no group"


def test_everything_that_writes_the_warehouse_shares_one_pool(defs: dg.Definitions) -> None:
    executable = [a for a in defs.resolve_asset_graph().assets_defs if a.is_executable]
    assert len(executable) > 10
    for assets_def in executable:
        assert assets_def.op.pool == WRITERS_POOL, assets_def.keys
    for spec in load_syncs():
        job = defs.resolve_job_def(campaign_job_name(spec.name))
        assert {node.definition.pool for node in job.graph.nodes} == {WRITERS_POOL}


def test_jobs_schedules_and_sensors(defs: dg.Definitions) -> None:
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    campaigns = {campaign_job_name(spec.name) for spec in load_syncs()}
    assert {"ingest_raw_data", *campaigns} <= jobs
    assert {s.name for s in defs.schedules} == {"demo_ingest_schedule"}
    assert {s.name for s in defs.sensors} == {
        "activations_automation",
        "alert_on_run_failure",
        "drop_folder_sensor",
    }


def test_campaign_jobs_rebuild_the_audience_through_the_dbt_step(
    defs: dg.Definitions, asset_graph
) -> None:
    """One job per sync: the audience and the dbt models it reads (no raw
    table: those are landed by ingest), then the sync's plan and delivery;
    launched with as_of and force only."""
    dbt_op = defs.resolve_assets_def(dg.AssetKey(["core", "customers"])).op.name
    for spec in load_syncs():
        audience = dg.AssetKey(["audiences", spec.audience_table])
        job = defs.resolve_job_def(campaign_job_name(spec.name))
        selected = set(job.asset_layer.executable_asset_keys)
        upstream = dg.AssetSelection.assets(audience).upstream().resolve(asset_graph)
        dbt_upstream = {key for key in upstream if "dbt" in asset_graph.get(key).kinds}
        assert selected == {*dbt_upstream, sync_plan_key(spec.name), sync_key(spec.name)}
        assert dg.AssetKey(["core", "customers"]) in selected
        assert not {key for key in selected if asset_graph.get(key).group_name == "raw"}
        assert {node.name for node in job.graph.nodes} == {
            dbt_op,
            f"sync_plan__{spec.name}",
            f"sync__{spec.name}",
        }
        assert set(job.run_config_schema.config_type.fields) == {"as_of", "force"}


def test_the_hourly_job_is_the_hourly_selector_then_the_hourly_syncs(
    defs: dg.Definitions, asset_graph
) -> None:
    """`hourly_build`: what `activations build --hourly` builds (dbt selector
    `hourly`: the hourly audiences, what they read, the membership log), then
    the syncs declared `schedule: hourly`; no seed (lookup tables, daily), no
    metric mart, no daily audience."""
    job = defs.resolve_job_def("hourly_build")
    selected = set(job.asset_layer.executable_asset_keys)
    for name in HOURLY_AUDIENCES:
        audience = dg.AssetKey(["audiences", name])
        upstream = dg.AssetSelection.assets(audience).upstream().resolve(asset_graph)
        models = {key for key in upstream if "dbt" in asset_graph.get(key).kinds}
        assert {key for key in models if key.path[0] != "seeds"} <= selected
    assert dg.AssetKey(["core", "audience_membership_log"]) in selected
    hourly = {spec.name for spec in load_syncs() if spec.schedule == "hourly"}
    assert hourly and {sync_key(name) for name in hourly} <= selected
    groups = {asset_graph.get(key).group_name for key in selected}
    assert not groups & {"metrics", "raw", "seeds"}
    assert dg.AssetKey(["audiences", "dormant_customers"]) not in selected
    # and its dbt step runs with the hourly vars, as `activations build --hourly`
    tags = job.tags
    hourly_vars = run_vars(DbtRunConfig(as_of="2026-06-30 12:00:00"), tags)
    assert hourly_vars == {**HOURLY_VARS, "as_of": "2026-06-30 12:00:00"}
    daily_vars = run_vars(DbtRunConfig(as_of="2026-06-30 12:00:00"), {})
    assert daily_vars == {"as_of": "2026-06-30 12:00:00"}


def test_sync_assets_follow_the_declared_schedule(asset_graph) -> None:
    for spec in load_syncs():
        for key in (sync_plan_key(spec.name), sync_key(spec.name)):
            label = asset_graph.get(key).automation_condition.get_label()
            assert label == f"{spec.schedule}, after upstream", key.to_user_string()
    declared = {"name": "x_klaviyo", "audience": "cart_abandoners", "provider": "klaviyo",
                "destination": "x"}  # fmt: skip
    cron = sync_condition(SyncSpec(**declared, schedule="30 7 * * 1"))
    assert cron.get_label() == "cron 30 7 * * 1, after upstream"
    assert sync_condition(SyncSpec(**declared, schedule=None)).get_label() == "eager"
    with pytest.raises(UserError, match="sync 'x_klaviyo': cadence 'weekly-ish' is neither"):
        sync_condition(SyncSpec(**declared, schedule="weekly-ish"))


def test_components_import_nothing_from_defs() -> None:
    """Components are reusable: they build on ``orchestration.lib`` and
    ``activations``, never on the instances in ``orchestration/defs``."""
    for path in sorted((PROJECT_ROOT / "orchestration" / "components").glob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                package = {0: "", 1: "orchestration.components.", 2: "orchestration."}
                names = [package[node.level] + (node.module or "")]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith("orchestration.defs"), f"{path.name}: imports {name}"


def _spec_snapshot(asset_graph) -> dict:
    out = {}
    for key in sorted(asset_graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = asset_graph.get(key)
        condition = node.automation_condition
        out[key.to_user_string()] = {
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "group": node.group_name,
            "owners": list(node.owners),
            "automation": condition.get_label() if condition else None,
            "kinds": sorted(node.kinds),
            "executable": node.is_executable,
        }
    return out


def test_snapshot_of_the_asset_graph(defs: dg.Definitions, asset_graph, snapshot) -> None:
    ingest = defs.resolve_job_def("ingest_raw_data")
    campaigns = [defs.resolve_job_def(campaign_job_name(spec.name)) for spec in load_syncs()]
    graph = {
        "assets": _spec_snapshot(asset_graph),
        "jobs": {
            "ingest_raw_data": sorted(
                k.to_user_string() for k in ingest.asset_layer.executable_asset_keys
            ),
            **{job.name: sorted(node.name for node in job.graph.nodes) for job in campaigns},
        },
        "schedules": {
            s.name: {"cron": s.cron_schedule, "job": s.job_name, "default": s.default_status.value}
            for s in defs.schedules
        },
        "sensors": sorted(s.name for s in defs.sensors),
    }
    assert graph == snapshot


def test_adding_a_sync_declaration_adds_its_assets(
    orchestration_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.definitions import defs as load

    syncs = tmp_path / "syncs"
    shutil.copytree(PROJECT_ROOT / "syncs", syncs)
    (syncs / "extra.yml").write_text(
        "syncs:\n"
        "  - name: birthday_klaviyo\n"
        "    audience: birthday_upcoming\n"
        "    provider: klaviyo\n"
        "    destination: birthdays\n"
        "    credentials: {api_key_env: KLAVIYO_API_KEY}\n"
    )
    monkeypatch.setenv("ACTIVATIONS_SYNCS", str(syncs))
    graph = load().resolve_asset_graph()
    assert graph.get(sync_key("birthday_klaviyo")).parent_keys == {
        sync_plan_key("birthday_klaviyo")
    }
    assert graph.get(sync_plan_key("birthday_klaviyo")).parent_keys == {
        dg.AssetKey(["audiences", "birthday_upcoming"])
    }

    (syncs / "extra.yml").write_text(
        "syncs:\n"
        "  - name: typo_klaviyo\n"
        "    audience: birthday_upcomming\n"
        "    provider: klaviyo\n"
        "    destination: birthdays\n"
        "    credentials: {api_key_env: KLAVIYO_API_KEY}\n"
    )
    with pytest.raises(Exception) as failure:
        load()
    error = failure.value
    while error is not None and not isinstance(error, UserError):
        error = error.__cause__ or error.__context__
    assert error is not None, f"expected a UserError, got {failure.value!r}"
    assert f"{syncs / 'extra.yml'}:3" in str(error)
    assert "birthday_upcomming" in str(error)


def test_cadence_vocabulary_and_destination_links() -> None:
    from orchestration.lib.cadence import cron_for, freshness_policy
    from orchestration.lib.links import destination_link

    assert cron_for("hourly") == "0 * * * *"
    assert cron_for("30 7 * * 1") == "30 7 * * 1"
    with pytest.raises(UserError, match="neither hourly, daily nor a valid cron line"):
        cron_for("weekly-ish")
    assert freshness_policy("30 7 * * 1") is not None
    assert destination_link("klaviyo", "abc", "http://127.0.0.1:8765/klaviyo") == (
        "http://127.0.0.1:8765/"
    )
    assert destination_link("klaviyo", "Xy 1", "https://a.klaviyo.com") == (
        "https://www.klaviyo.com/list/Xy%201"
    )
    assert destination_link("webhook", "/hooks/x", "https://example.com") == ""
