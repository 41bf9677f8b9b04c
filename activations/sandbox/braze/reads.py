"""Braze reads for the pull-back: unsubscribes, hard bounces, user export."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.braze.model import export_view, find_user
from activations.sandbox.braze.wire import NAME, body_of, fatal
from activations.sandbox.common import Reply, iso, norm_email, parse_time
from activations.sandbox.core import SandboxDep
from activations.sandbox.store import Contact

router = APIRouter()


def day_bounds(request: Request) -> tuple[float, float]:
    def day(name: str, default: float) -> float:
        raw = request.query_params.get(name)
        if not raw:
            return default
        parsed = parse_time(raw if "T" in raw else raw + "T00:00:00+00:00")
        if parsed is None:
            raise Reply(fatal(400, f"{name} must be a date like 2026-01-31"))
        return parsed
    start = day("start_date", 0.0)
    end = day("end_date", 1e12)
    if request.query_params.get("end_date"):
        end += 86400  # the end date is inclusive
    return start, end


def paged(request: Request, rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: r[key] or "", reverse=request.query_params.get(
        "sort_direction", "desc") == "desc")
    try:
        limit = min(500, max(1, int(request.query_params.get("limit", 100))))
        offset = max(0, int(request.query_params.get("offset", 0)))
    except ValueError as exc:
        raise Reply(fatal(400, "limit and offset must be integers")) from exc
    return rows[offset:offset + limit]


@router.get("/email/unsubscribes")
async def unsubscribes(request: Request, sb: SandboxDep) -> JSONResponse:
    start, end = day_bounds(request)
    rows = [{"email": c.email, "unsubscribed_at": iso(c.consent.get("email_subscribe_at"))}
            for c in sb.store.contacts(NAME)
            if c.email and c.consent.get("email_subscribe") == "unsubscribed"
            and start <= (c.consent.get("email_subscribe_at") or 0) < end]
    rows += [{"email": s["email"], "unsubscribed_at": iso(s["created_at"])}
             for s in sb.store.suppressions(NAME, "email_state")
             if s["reason"] == "unsubscribed" and start <= s["created_at"] < end]
    return JSONResponse({"message": "success",
                         "emails": paged(request, rows, "unsubscribed_at")})


@router.get("/email/hard_bounces")
async def hard_bounces(request: Request, sb: SandboxDep) -> JSONResponse:
    start, end = day_bounds(request)
    rows = [{"email": s["email"], "hard_bounced_at": iso(s["created_at"])}
            for s in sb.store.suppressions(NAME, "bounce") if start <= s["created_at"] < end]
    return JSONResponse({"message": "success",
                         "emails": paged(request, rows, "hard_bounced_at")})


@router.post("/users/export/ids")
async def export(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    users: list[Contact] = []
    invalid: list[str] = []
    for ext in body.get("external_ids") or []:
        contact = find_user(sb, {"external_id": ext})
        (users.append(contact) if contact else invalid.append(str(ext)))
    for bid in body.get("braze_ids") or []:
        contact = sb.store.get_contact(NAME, str(bid))
        (users.append(contact) if contact else invalid.append(str(bid)))
    if body.get("email_address"):
        email = norm_email(body["email_address"])
        users += [c for c in sb.store.contacts(NAME) if c.email == email]
    fields = body.get("fields_to_export")
    views = [export_view(sb, c) for c in users]
    if fields:
        views = [{k: v for k, v in view.items() if k in fields} for view in views]
    return JSONResponse({"message": "success", "users": views,
                         "invalid_user_ids": invalid})
