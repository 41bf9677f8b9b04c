"""Dagster metadata of a sync run: what ``RunReport.metadata()`` says (the
engine's one account of a run, in plain types) as Dagster metadata values,
plus a link to the destination. One builder for the plan and the delivery
asset: a key the engine adds to its report shows up on both."""

from __future__ import annotations

from typing import Any

import dagster as dg

from activations.sync.engine import RunReport
from activations.sync.specs import SyncSpec
from orchestration.lib.links import sync_link


def metadata_value(value: Any) -> dg.MetadataValue:
    """A plain value as Dagster shows it: numbers, text, flags; lists and
    mappings (job ids, guard verdicts) as JSON."""
    if isinstance(value, bool):
        return dg.MetadataValue.bool(value)
    if isinstance(value, int):
        return dg.MetadataValue.int(value)
    if isinstance(value, float):
        return dg.MetadataValue.float(value)
    if isinstance(value, str):
        return dg.MetadataValue.text(value)
    return dg.MetadataValue.json(value)


def run_metadata(spec: SyncSpec, report: RunReport) -> dict[str, dg.MetadataValue]:
    """The materialization metadata of one run of ``spec`` (no ``error`` key
    when there was none; ``link`` when the destination has a page)."""
    metadata = {
        key: metadata_value(value)
        for key, value in report.metadata().items()
        if not (key == "error" and not value)
    }
    link = sync_link(spec)
    if link:
        metadata["link"] = dg.MetadataValue.url(link)
    return metadata
