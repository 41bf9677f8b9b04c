"""Klaviyo events, one at a time or in bulk: deduplicated per profile and
metric, creating or updating the profile."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from activations.sandbox.common import parse_time
from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.klaviyo.model import profile_problem, upsert_profile
from activations.sandbox.klaviyo.wire import NAME, body_of, invalid

MAX_EVENTS = 1_000

router = APIRouter()


@router.post("/api/events")
async def create_event(request: Request, sb: SandboxDep) -> Response:
    body = await body_of(request)
    record_event(sb, body["data"]["attributes"], "/data/attributes")
    return Response(status_code=202)


@router.post("/api/event-bulk-create-jobs")
async def bulk_events(request: Request, sb: SandboxDep) -> Response:
    body = await body_of(request)
    entries = body["data"]["attributes"]["events-bulk-create"]["data"]
    total = sum(len(e["attributes"]["events"]["data"]) for e in entries)
    if total > MAX_EVENTS:
        raise invalid(
            f"An event bulk create job takes at most {MAX_EVENTS} events; got {total}.",
            pointer="/data/attributes/events-bulk-create/data",
        )
    for i, entry in enumerate(entries):
        profile = entry["attributes"]["profile"]
        for j, event in enumerate(entry["attributes"]["events"]["data"]):
            record_event(
                sb,
                {**event["attributes"], "profile": profile},
                f"/data/attributes/events-bulk-create/data/{i}/attributes/events"
                f"/data/{j}/attributes",
            )
    return Response(status_code=202)


def record_event(sb: Sandbox, attrs: dict[str, Any], pointer: str) -> None:
    profile_attrs = dict((attrs.get("profile") or {}).get("data", {}).get("attributes") or {})
    problem = profile_problem(profile_attrs)
    if problem is not None:
        raise invalid(problem[1], pointer=f"{pointer}/profile/data/attributes/{problem[0]}")
    metric = attrs["metric"]["data"]["attributes"]["name"]
    when = parse_time(attrs.get("time")) or sb.now()
    contact, _ = upsert_profile(sb, profile_attrs)
    unique = attrs.get("unique_id") or str(int(when))
    sb.store.add_event(
        NAME,
        contact.id,
        metric,
        {"properties": attrs.get("properties", {}), "value": attrs.get("value"), "time": when},
        sb.now(),
        dedupe_key=f"{contact.id}|{metric}|{unique}",
    )
