"""Sandbox-only read of profiles (stand-in for Segment's Profile API, which lives
on another host with another token; the Tracking API has no reads)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.twilio.wire import NAME

router = APIRouter()


@router.get("/v1/profiles")
async def profiles(request: Request, sb: SandboxDep) -> JSONResponse:
    user_id = request.query_params.get("user_id")
    contacts = sb.store.contacts(NAME) if user_id is None else [
        c for c in [sb.store.get_contact(NAME, user_id)] if c]
    return JSONResponse({"profiles": [
        {"user_id": c.id, "phone": c.phone, "email": c.email, "traits": c.attributes}
        for c in contacts]})
