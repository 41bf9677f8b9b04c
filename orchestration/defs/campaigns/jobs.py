"""One-off campaigns: right before a send, rebuild the chosen segment (and
what it reads) and sync it, configured at launch::

    dg launch --job one_off_campaign --config-json \
      '{"ops": {"rebuild_segment": {"config": {"sync": "dormant_customers_mailchimp"}}}}'

``segment`` (a dbt model) defaults to the sync's audience; another segment is
sent through that sync's destination, mapping and guards.

(No ``from __future__ import annotations``: Dagster reads the config class.)
"""

import dagster as dg

from activations import engine
from activations.clock import with_as_of
from activations.dbt import run_dbt
from activations.errors import UserError
from activations.specs import SyncSpec, get_sync
from orchestration.components.audience_sync import delivery_metadata, sync_key
from orchestration.defs.resources import WarehouseResource


class CampaignConfig(dg.Config):
    sync: str  # a sync declared in syncs/*.yml
    segment: str | None = None  # the dbt model to rebuild and send; default: the sync's audience
    with_upstream: bool = True  # rebuild what the segment reads too (dbt `+segment`)
    force: bool = False  # send although a guard trips
    as_of: str | None = None  # dbt var as_of ("2026-06-30 12:00:00", UTC); default now (UTC)


def campaign_spec(config: CampaignConfig) -> SyncSpec:
    spec = get_sync(config.sync)
    if config.segment and config.segment != spec.audience_table:
        return spec.model_copy(update={"audience": config.segment})
    return spec


@dg.op(pool="duckdb", tags={"kind": "dbt"})
def rebuild_segment(context: dg.OpExecutionContext, config: CampaignConfig) -> dict:
    """``dbt build`` of the segment (with its upstream models unless told not to)."""
    try:
        spec = campaign_spec(config)
        selector = f"+{spec.audience_table}" if config.with_upstream else spec.audience_table
        dbt_vars = with_as_of({"as_of": config.as_of})  # one as_of, fixed now
        result = run_dbt("build", select=[selector], vars=dbt_vars, quiet=True)
    except UserError as exc:
        raise dg.Failure(description=str(exc)) from None
    context.log_event(
        dg.AssetMaterialization(
            asset_key=dg.AssetKey(["audiences", spec.audience_table]),
            description=f"rebuilt for one-off campaign through sync {spec.name}",
            metadata={"dbt_nodes": len(result.nodes), "selector": selector},
        )
    )
    return config.model_dump()


@dg.op(pool="duckdb")
def sync_segment(
    context: dg.OpExecutionContext, campaign: dict, warehouse: WarehouseResource
) -> dict:
    """Send the rebuilt segment through the sync (plan, guards, deliver)."""
    config = CampaignConfig(**campaign)
    try:
        spec = campaign_spec(config)
        with warehouse.connection() as conn:
            report = engine.run(spec, conn, force=config.force)
    except UserError as exc:
        raise dg.Failure(description=str(exc)) from None
    metadata = delivery_metadata(spec, report)
    if report.status in ("blocked", "failed"):
        raise dg.Failure(
            description=f"campaign sync {spec.name!r} {report.status}: {report.error}",
            metadata=metadata,
        )
    context.log_event(dg.AssetMaterialization(asset_key=sync_key(spec.name), metadata=metadata))
    return report.metadata()


@dg.job(
    name="one_off_campaign",
    description="Rebuild a chosen segment and sync it right before a send (config at launch).",
    tags={"kind": "campaign"},
)
def one_off_campaign() -> None:
    sync_segment(rebuild_segment())
