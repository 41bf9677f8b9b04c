"""Sandbox-only read of people (stand-in for Customer.io's reporting webhooks /
App API, since Track has no read API)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.common import norm_email
from activations.sandbox.core import SandboxDep
from activations.sandbox.customerio.wire import NAME, truthy

router = APIRouter()


@router.get("/api/v1/customers")
async def customers(request: Request, sb: SandboxDep) -> JSONResponse:
    """Sandbox-only read: stands in for reporting webhooks / the App API."""
    contacts = sb.store.contacts(NAME)
    if truthy(request.query_params.get("unsubscribed", "")):
        contacts = [c for c in contacts if truthy(c.attributes.get("unsubscribed"))]
    email = norm_email(request.query_params.get("email"))
    if email:
        contacts = [c for c in contacts if c.email == email]
    return JSONResponse({"customers": [
        {"id": None if c.id.startswith("cio_") else c.id, "cio_id": c.id,
         "email": c.email, "unsubscribed": truthy(c.attributes.get("unsubscribed")),
         "updated_at": int(c.updated_at)} for c in contacts]})
