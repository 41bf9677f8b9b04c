"""Segment's HTTP Tracking API: ``/v1/batch`` (a 400 for the whole request when a
message is over 32 KB), ``/v1/identify`` and ``/v1/track``."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.twilio.model import apply
from activations.sandbox.twilio.wire import MAX_MESSAGE_BYTES, body_of, error

router = APIRouter()
OK = {"success": True}


def _too_big(message: object) -> bool:
    encoded = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    return len(encoded) > MAX_MESSAGE_BYTES


@router.post("/v1/batch")
async def batch(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    messages = body.get("batch")
    if not isinstance(messages, list) or not messages:
        return error(400, "batch must be a non-empty array of messages")
    for index, message in enumerate(messages):
        if _too_big(message):
            return error(400, f"Message at index {index} exceeds the 32 KB limit")
    with sb.store.tx():  # one commit for the whole batch
        for message in messages:
            apply(sb, message)
    return JSONResponse(OK)


@router.post("/v1/identify")
@router.post("/v1/track")
async def single(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    if _too_big(body):
        return error(400, "A message is at most 32 KB")
    body.setdefault("type", request.url.path.rsplit("/", 1)[-1])
    with sb.store.tx():
        apply(sb, body)
    return JSONResponse(OK)
