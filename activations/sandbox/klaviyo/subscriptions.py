"""Klaviyo subscribe and unsubscribe jobs, with Klaviyo's dangers: subscribing
clears UNSUBSCRIBE, SPAM_REPORT and USER_SUPPRESSED suppressions; unsubscribing a
profile not in the given list unsubscribes it globally."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from activations.sandbox.common import parse_time
from activations.sandbox.core import SandboxDep
from activations.sandbox.klaviyo.model import (
    consent_of,
    ensure_list,
    profile_problem,
    set_unsubscribed,
    upsert_profile,
)
from activations.sandbox.klaviyo.wire import NAME, body_of, invalid

MAX_SUBSCRIBE = 1_000
MAX_UNSUBSCRIBE = 100
CLEARED_BY_SUBSCRIBE = {"UNSUBSCRIBE", "SPAM_REPORT", "USER_SUPPRESSED"}

router = APIRouter()


@router.post("/api/profile-subscription-bulk-create-jobs")
async def subscribe(request: Request, sb: SandboxDep) -> Response:
    body = await body_of(request)
    data = body["data"]
    profiles = data["attributes"]["profiles"]["data"]
    if len(profiles) > MAX_SUBSCRIBE:
        raise invalid(
            f"At most {MAX_SUBSCRIBE} profiles per subscribe job; got {len(profiles)}.",
            pointer="/data/attributes/profiles/data",
        )
    historical = bool(data["attributes"].get("historical_import"))
    list_ref = ((data.get("relationships") or {}).get("list") or {}).get("data")
    for index, profile in enumerate(profiles):
        attrs = profile.get("attributes") or {}
        pointer = f"/data/attributes/profiles/data/{index}/attributes"
        problem = profile_problem(attrs)
        if problem is not None:
            raise invalid(problem[1], pointer=f"{pointer}/{problem[0]}")
        marketing = ((attrs.get("subscriptions") or {}).get("email") or {}).get(
            "marketing"
        ) or {}
        consented_at = parse_time(marketing.get("consented_at"))
        if historical and (consented_at is None or consented_at > sb.now()):
            raise invalid(
                "historical_import requires a consented_at in the past.",
                pointer=f"{pointer}/subscriptions/email/marketing/consented_at",
            )
    for profile in profiles:
        attrs = profile["attributes"]
        contact, _ = upsert_profile(
            sb, {k: attrs[k] for k in ("email", "phone_number", "external_id") if k in attrs}
        )
        marketing = (attrs.get("subscriptions") or {}).get("email", {}).get("marketing")
        if marketing:
            consent = consent_of(contact)
            consent["consent"] = "SUBSCRIBED"
            consent["consent_timestamp"] = parse_time(marketing.get("consented_at")) or sb.now()
            consent["method"] = data["attributes"].get("custom_source") or "API"
            # Klaviyo's documented danger: subscribing clears these suppressions
            consent["suppression"] = [
                s for s in consent["suppression"] if s["reason"] not in CLEARED_BY_SUBSCRIBE
            ]
            contact.updated_at = sb.now()
            sb.store.save_contact(contact)
        if list_ref:
            ensure_list(sb, list_ref["id"])
            sb.store.add_members(NAME, list_ref["id"], [contact.id], sb.now())
    return Response(status_code=202)


@router.post("/api/profile-subscription-bulk-delete-jobs")
async def unsubscribe(request: Request, sb: SandboxDep) -> Response:
    body = await body_of(request)
    data = body["data"]
    profiles = data["attributes"]["profiles"]["data"]
    if len(profiles) > MAX_UNSUBSCRIBE:
        raise invalid(
            f"At most {MAX_UNSUBSCRIBE} profiles per unsubscribe job; got {len(profiles)}.",
            pointer="/data/attributes/profiles/data",
        )
    list_ref = ((data.get("relationships") or {}).get("list") or {}).get("data")
    for profile in profiles:
        attrs = profile.get("attributes") or {}
        contact, _ = upsert_profile(
            sb, {k: attrs[k] for k in ("email", "phone_number") if k in attrs}
        )
        if list_ref and sb.store.is_member(NAME, list_ref["id"], contact.id):
            sb.store.remove_members(NAME, list_ref["id"], [contact.id])
            consent_of(contact)["list_suppressions"].append(
                {"list_id": list_ref["id"], "reason": "USER_SUPPRESSED", "timestamp": sb.now()}
            )
            sb.store.save_contact(contact)
        else:
            # "Profiles not in the specified list will be globally unsubscribed."
            set_unsubscribed(sb, contact, "UNSUBSCRIBE", "API")
    return Response(status_code=202)
