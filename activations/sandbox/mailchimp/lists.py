"""Mailchimp audiences (lists): list, create, read."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.mailchimp.model import ensure_list, list_view
from activations.sandbox.mailchimp.wire import NAME, body_of, collection, invalid, missing

router = APIRouter()


@router.get("/lists")
async def get_lists(request: Request, sb: SandboxDep) -> JSONResponse:
    rows = sb.store.lists(NAME, kind="list")
    return collection(request, "lists", rows, lambda r: list_view(sb, r))


@router.post("/lists")
async def create_list(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    name = str(body.get("name") or "").strip()
    if not name:
        raise invalid("The resource submitted could not be validated.", "name",
                      "This value should not be blank.")
    row = ensure_list(sb, uuid.uuid4().hex[:10], name, auto=False)
    return JSONResponse(list_view(sb, row))


@router.get("/lists/{list_id}")
async def get_list(list_id: str, sb: SandboxDep) -> JSONResponse:
    row = sb.store.get_list(NAME, list_id)
    if row is None or row.kind != "list":
        raise missing(f"list {list_id}")
    return JSONResponse(list_view(sb, row))
