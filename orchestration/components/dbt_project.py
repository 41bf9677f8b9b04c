"""The dbt project as assets, with the project's policy in one place.

``get_asset_spec`` is the single policy pass over every dbt node:

- key and group come from the dbt structure (the default translator: schema
  folder as key prefix, ``+meta: {dagster: {group: ...}}`` per folder);
- owners per group (``meta.dagster.owners`` on a model wins);
- cadence from ``meta.cadence`` (per model or folder in ``dbt_project.yml``),
  else the layer's default: raw-facing layers hourly, audiences and metrics daily;
- automation: refresh on the cadence; hourly models also on new upstream data;
- freshness policy on every audience, from its cadence.

Run config of the dbt step (launchpad, backfills, ``dg launch --config``):
``as_of`` computes audiences and metrics as of another moment (the dbt var,
UTC), ``full_refresh`` rebuilds incremental models from scratch. Without it
the step fixes ``as_of`` to now (UTC) when it starts: one build, one as_of,
passed to dbt as a var and recorded by dbt in ``activations.dbt_builds``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DbtProject, DbtProjectComponent
from dagster_dbt.dbt_manifest_asset_selection import DbtManifestAssetSelection

from activations.errors import UserError
from activations.paths import duckdb_path
from activations.warehouse.dbt import HOURLY_SELECTOR, build_vars, prepare_raw
from orchestration.lib.cadence import freshness_policy, refresh_condition

OWNERS = {
    "staging": ["team:data-engineering"],
    "intermediate": ["team:data-engineering"],
    "core": ["team:data-engineering"],
    "seeds": ["team:data-engineering"],
    "audiences": ["team:lifecycle-marketing"],
    "metrics": ["team:marketing-analytics"],
}
# cadence of a layer when its models declare none: the layers under an hourly
# audience must be at least as fresh as it
GROUP_CADENCE = {
    "staging": "hourly",
    "intermediate": "hourly",
    "core": "hourly",
    "seeds": "daily",
    "audiences": "daily",
    "metrics": "daily",
}


class DbtRunConfig(dg.Config):
    """Run config of the dbt step."""

    as_of: str | None = None  # e.g. "2026-06-30 12:00:00" (UTC); default: now (UTC) at step start
    full_refresh: bool = False


def node_meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**node.get("meta", {}), **node.get("config", {}).get("meta", {})}


def cadence_of(node: Mapping[str, Any], group: str | None) -> str:
    return str(node_meta(node).get("cadence") or GROUP_CADENCE.get(group or "", "daily"))


def run_vars(config: DbtRunConfig, run_tags: Mapping[str, str]) -> dict[str, Any]:
    """The dbt vars of one run: its as_of (now, UTC, unless configured) and, in
    the hourly job (audience_sync.build_hourly_job, tag kind=hourly), the
    hourly vars of `activations build --hourly` (data tests of the event tables
    check the last day's loads)."""
    return build_vars({"as_of": config.as_of}, hourly=run_tags.get("kind") == "hourly")


class ActivationsDbtProjectComponent(DbtProjectComponent):
    """``DbtProjectComponent`` plus the project's asset policy."""

    @property
    def op_config_schema(self) -> type[dg.Config] | None:
        return DbtRunConfig

    def get_cli_args(self, context: dg.AssetExecutionContext) -> list[str]:
        args = list(super().get_cli_args(context))
        config = DbtRunConfig(**(context.op_execution_context.op_config or {}))
        try:
            dbt_vars = run_vars(config, context.run.tags)
        except UserError as exc:
            raise dg.Failure(description=f"run config of dbt_build: {exc}") from None
        context.log.info(f"dbt build as of {dbt_vars['as_of']} UTC")
        args += ["--vars", json.dumps(dbt_vars)]
        if config.full_refresh:
            args.append("--full-refresh")
        return args

    def execute(self, context: dg.AssetExecutionContext, dbt: Any) -> Iterator:
        """The step ``activations build`` runs before dbt (phone numbers to
        E.164 in ``raw.phone_numbers``), then dbt."""
        on_duckdb = os.environ.get("DBT_TARGET", "duckdb") == "duckdb"
        try:
            added = prepare_raw(duckdb_path() if on_duckdb else None)
        except UserError as exc:
            raise dg.Failure(description=f"phone normalisation before dbt: {exc}") from None
        context.log.info(f"phone numbers normalised to E.164: {added} new (phone, country) pairs")
        yield from super().execute(context, dbt)

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = self.get_resource_props(manifest, unique_id)
        if node.get("resource_type") not in ("model", "seed", "snapshot"):
            return spec  # sources: landed by the ingest assets, which own their policy
        group = spec.group_name
        if node["resource_type"] == "seed" and group in (None, "default"):
            group = "seeds"  # lookup tables: dbt_project.yml gives seeds no dagster group
        cadence = cadence_of(node, group)
        owners = list(spec.owners) or OWNERS.get(group or "", [])
        # hourly models (staging, core, hourly audiences) also follow new data;
        # daily ones wait for their tick
        on_new_data = cadence == "hourly"
        attrs: dict[str, Any] = {
            "group_name": group,
            "owners": owners,
            "tags": {**spec.tags, "cadence": cadence},
            "automation_condition": refresh_condition(cadence, on_new_data=on_new_data),
        }
        if group == "audiences":
            attrs["freshness_policy"] = freshness_policy(cadence)
        return spec.replace_attributes(**attrs)

    def model_names(self, group: str) -> list[str]:
        """The dbt models of one Dagster group, e.g. every audience."""
        manifest = self._validated_manifest
        names = []
        for node in manifest["nodes"].values():
            if node.get("resource_type") != "model":
                continue
            meta = node_meta(node)
            if meta.get("dagster", {}).get("group") == group:
                names.append(node["name"])
        return sorted(names)

    def hourly_selection(self) -> dg.AssetSelection:
        """The dbt selector ``hourly`` (dbt_project/selectors.yml) as assets: what
        ``activations build --hourly`` builds."""
        return DbtManifestAssetSelection.build(
            manifest=self._validated_manifest,
            dagster_dbt_translator=self.translator,
            selector=HOURLY_SELECTOR,
            project=self.dbt_project,
        )
