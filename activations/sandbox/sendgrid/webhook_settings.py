"""SendGrid's Signed Event Webhook settings: the public key a receiver verifies
the sandbox's Event Webhook deliveries with (``activations.sandbox.signing``)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.sendgrid.wire import NAME
from activations.sandbox.signing import sendgrid_public_key

router = APIRouter()


@router.get("/v3/user/webhooks/event/settings/signed")
async def signed_settings(sb: SandboxDep) -> JSONResponse:
    seed = sb.settings.webhook_secrets.get(NAME)
    return JSONResponse({"enabled": bool(seed),
                         "public_key": sendgrid_public_key(seed) if seed else ""})
