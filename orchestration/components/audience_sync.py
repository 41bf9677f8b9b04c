"""One pair of assets and one campaign job per declared sync, read from the
same ``syncs/*.yml`` the command line reads: adding a declaration adds them,
no Python.

For each sync ``<name>``:

- ``sync_plan/<name>`` plans the run in the warehouse (no HTTP) and carries a
  **blocking** ``guards`` check: removal cap, empty audience. A failed
  blocking check stops the delivery asset in the same run;
- ``sync/<name>`` delivers (``activations.sync.engine.run``): only the changes,
  commits what the provider confirmed, and records planned, sent, confirmed,
  rejected, removed, duration, provider job ids and a link to the destination.
  Its ``rejects`` check fails when the provider refused more records than the
  declaration allows (``guards.max_rejects_share``);
- ``one_off_campaign__<name>`` rebuilds the audience with the dbt models it
  reads (through the dbt component's own step) and then plans and delivers,
  right before a send. Launch config: ``as_of`` (the dbt step's ``as_of``) and
  ``force`` (both assets' ``force``).

Both assets follow the declaration's ``schedule``: on each tick, once the
audience has been rebuilt since (``orchestration.lib.cadence.follow_condition``);
a declaration with ``schedule: null`` follows every rebuild of its audience.
With ``force: true`` (run config of both assets) a tripped guard only warns
and the delivery goes ahead.

(No ``from __future__ import annotations``: Dagster reads the config and
resource classes from the real annotations.)
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtProjectComponent

from activations.errors import UserError
from activations.sync import engine, source
from activations.sync.engine import RunReport
from activations.sync.guards import UNFORCEABLE, rejects_over
from activations.sync.specs import SyncSpec, load_syncs
from orchestration.components.dbt_project import ActivationsDbtProjectComponent
from orchestration.lib.cadence import follow_condition
from orchestration.lib.metadata import run_metadata
from orchestration.lib.resources import WarehouseResource

GROUP = "syncs"
OWNERS = ["team:lifecycle-marketing"]
GUARDS_CHECK = "guards"
REJECTS_CHECK = "rejects"
CAMPAIGN_JOB = "one_off_campaign__{sync}"


def sync_plan_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["sync_plan", name])


def sync_key(name: str) -> dg.AssetKey:
    return dg.AssetKey(["sync", name])


def campaign_job_name(name: str) -> str:
    return CAMPAIGN_JOB.format(sync=name)


class SyncConfig(dg.Config):
    """Run config of the plan and the delivery asset."""

    force: bool = False  # deliver although a guard trips (after reading the plan)


class CampaignConfig(dg.Config):
    """Launch config of a one-off campaign job."""

    as_of: str | None = None  # dbt var as_of ("2026-06-30 12:00:00"); default now
    force: bool = False  # send although a guard trips


def _run(spec: SyncSpec, warehouse: WarehouseResource, **options: Any) -> RunReport:
    """One engine run of ``spec``; a user mistake (a bad declaration, a missing
    secret) fails the step with its one clear message."""
    try:
        with warehouse.connection() as conn:
            source.prepare(spec, conn)  # ACTIVATIONS_AUDIENCES_FROM=spark: copy it in first
            return engine.run(spec, conn, **options)
    except UserError as exc:
        raise dg.Failure(description=str(exc)) from None


def sync_condition(spec: SyncSpec) -> dg.AutomationCondition:
    """When the sync's assets run: its declared schedule, after its audience."""
    try:
        return follow_condition(spec.schedule)
    except UserError as exc:
        raise UserError(
            f"{spec.where('schedule')}: sync {spec.name!r}: {exc.args[0]}", hint=exc.hint
        ) from None


def build_sync_assets(spec: SyncSpec, audience_key: dg.AssetKey) -> list[dg.AssetsDefinition]:
    """The plan asset (with its blocking guards check) and the delivery asset."""
    plan_key, deliver_key = sync_plan_key(spec.name), sync_key(spec.name)
    tags = {"provider": spec.provider, "mode": spec.mode}
    about = spec.description or f"{spec.audience} to {spec.provider} {spec.destination!r}"
    where = str(spec.source.file) if spec.source.line else "inline"
    # both steps: one writer on the warehouse (pool), on the sync's schedule
    shared: dict[str, Any] = {
        "group_name": GROUP,
        "owners": OWNERS,
        "kinds": {spec.provider, "python"},
        "tags": tags,
        "pool": "duckdb",
        "automation_condition": sync_condition(spec),
    }

    @dg.asset(
        key=plan_key,
        deps=[audience_key],
        **shared,
        description=f"Plan of sync {spec.name} ({about}): what the next run would "
        f"add, change and remove, checked against its guards. Declared in {where}.",
        check_specs=[
            dg.AssetCheckSpec(
                GUARDS_CHECK,
                asset=plan_key,
                blocking=True,
                description="Removal cap and empty-audience guard: a failure stops the send "
                "(with config force: true it only warns).",
            )
        ],
    )
    def plan_asset(config: SyncConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
        report = _run(spec, warehouse, dry_run=True)
        tripped = [g for g in report.guards if not g.passed]
        description = "; ".join(g.message for g in tripped) or "every guard passed"
        if tripped and config.force:
            description += " (forced: the delivery goes ahead)"
        check = dg.AssetCheckResult(
            check_name=GUARDS_CHECK,
            asset_key=plan_key,
            passed=not tripped,
            # a blocking check stops the delivery only on ERROR
            severity=dg.AssetCheckSeverity.WARN if config.force else dg.AssetCheckSeverity.ERROR,
            description=description,
            metadata={g.name: g.message for g in report.guards},
        )
        return dg.MaterializeResult(metadata=run_metadata(spec, report), check_results=[check])

    @dg.asset(
        key=deliver_key,
        deps=[plan_key],
        **shared,
        description=f"Sync {spec.name}: {about} ({spec.mode}). Declared in {where}.",
        check_specs=[
            dg.AssetCheckSpec(
                REJECTS_CHECK,
                asset=deliver_key,
                description="Records the provider refused stay within guards.max_rejects_share.",
            )
        ],
    )
    def deliver_asset(config: SyncConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
        report = _run(spec, warehouse, force=config.force)
        metadata = run_metadata(spec, report)
        over = rejects_over(spec.guards, report.sent, report.rejected)
        if report.status == "blocked":
            tripped = {g.name for g in report.guards if not g.passed}
            advice = (
                "Import more codes into the campaign's pool (force does not override it)."
                if tripped & UNFORCEABLE
                else "Check the plan; to send anyway, materialize this asset alone with "
                "config force: true."
            )
            raise dg.Failure(
                description=f"sync {spec.name!r} blocked by a guard: {report.error}. {advice}",
                metadata=metadata,
            )
        if report.status == "failed" and not over:
            raise dg.Failure(
                description=f"sync {spec.name!r} failed: {report.error}", metadata=metadata
            )
        check = dg.AssetCheckResult(
            check_name=REJECTS_CHECK,
            asset_key=deliver_key,
            passed=not over,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"{report.rejected} of {report.sent} records rejected "
            f"(allowed: {spec.guards.max_rejects_share:.0%}; see activations.sync_rejects)",
        )
        return dg.MaterializeResult(metadata=metadata, check_results=[check])

    return [plan_asset, deliver_asset]


def build_campaign_job(
    spec: SyncSpec,
    audience_key: dg.AssetKey,
    sync_assets: Sequence[dg.AssetsDefinition],
    dbt_op: str,
):  # an unresolved asset job (its class is not public)
    """``one_off_campaign__<sync>``: the sync's audience with the dbt models
    it reads (not the raw tables they read), then its plan and delivery."""
    sync_ops = [assets_def.op.name for assets_def in sync_assets]

    @dg.config_mapping
    def launch_config(config: CampaignConfig) -> dict[str, Any]:
        force = {"config": {"force": config.force}}
        return {
            "ops": {
                dbt_op: {"config": {"as_of": config.as_of}},
                **{op: force for op in sync_ops},
            }
        }

    audience_and_upstream = dg.AssetSelection.assets(audience_key).upstream()
    return dg.define_asset_job(
        campaign_job_name(spec.name),
        selection=(audience_and_upstream & dg.AssetSelection.kind("dbt"))
        | dg.AssetSelection.assets(*(key for a in sync_assets for key in a.keys)),
        config=launch_config,
        description=f"One-off campaign through sync {spec.name}: rebuild {spec.audience} "
        "and the dbt models it reads, then plan and send (config: as_of, force).",
        tags={"kind": "campaign", "sync": spec.name},
    )


HOURLY_JOB = "hourly_build"


def build_hourly_job(dbt_hourly: dg.AssetSelection, hourly_syncs: Sequence[dg.AssetsDefinition]):
    """``hourly_build``: what an hour of new events touches (the dbt selector
    ``hourly``, as ``activations build --hourly``), then the syncs declared
    ``schedule: hourly`` (their plan and delivery)."""
    return dg.define_asset_job(
        HOURLY_JOB,
        selection=dbt_hourly
        | dg.AssetSelection.assets(*(key for a in hourly_syncs for key in a.keys)),
        description="The hourly path: the incremental event models and the hourly audiences "
        "with what they read (dbt selector `hourly`), then the hourly syncs.",
        tags={"kind": "hourly"},
    )


def audience_key(dbt: DbtProjectComponent, spec: SyncSpec) -> dg.AssetKey:
    """The dbt asset of the sync's audience, or a clear error at its declaration."""
    try:
        return dbt.asset_key_for_model(spec.audience_table)
    except KeyError:
        raise UserError(
            f"{spec.where('audience')}: sync {spec.name!r}: no dbt model named "
            f"{spec.audience_table!r}",
            hint="name a model of dbt_project/models (e.g. cart_abandoners)",
        ) from None


def dbt_op_name(dbt: DbtProjectComponent, folder: str) -> str:
    """The dbt step's op name, which the campaign jobs' run config is keyed by."""
    if dbt.op is None or not dbt.op.name:
        raise UserError(
            f"the dbt component in orchestration/defs/{folder} names no op",
            hint="give it `op: {name: dbt_build}` in its defs.yaml",
        )
    return dbt.op.name


class AudienceSyncComponent(dg.Component, dg.Resolvable, dg.Model):
    """Every sync declared in ``syncs`` (a folder or file under the project
    root; default ``$ACTIVATIONS_SYNCS`` or ``syncs/``) as a plan and a
    delivery asset downstream of its dbt audience, and a one-off campaign job."""

    syncs: str | None = None
    transform: str = "transform"  # the dbt component's folder under defs/

    def sync_specs(self, project_root: Path) -> Sequence[SyncSpec]:
        return load_syncs(None if self.syncs is None else project_root / self.syncs)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        dbt = context.load_component(self.transform, DbtProjectComponent)
        dbt_op = dbt_op_name(dbt, self.transform)
        assets: list[dg.AssetsDefinition] = []
        jobs = []
        hourly_syncs: list[dg.AssetsDefinition] = []
        for spec in self.sync_specs(context.project_root):
            audience = audience_key(dbt, spec)
            pair = build_sync_assets(spec, audience)
            assets.extend(pair)
            jobs.append(build_campaign_job(spec, audience, pair, dbt_op))
            if spec.schedule == "hourly":
                hourly_syncs.extend(pair)
        if isinstance(dbt, ActivationsDbtProjectComponent):
            jobs.append(build_hourly_job(dbt.hourly_selection(), hourly_syncs))
        return dg.Definitions(assets=assets, jobs=jobs)
