"""Klaviyo lists: create, read, find by name."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.common import token
from activations.sandbox.core import SandboxDep
from activations.sandbox.klaviyo.model import list_resource
from activations.sandbox.klaviyo.wire import MEDIA, NAME, body_of, collection, not_found
from activations.sandbox.store import ListRow

router = APIRouter()


@router.get("/api/lists")
async def get_lists(request: Request, sb: SandboxDep) -> JSONResponse:
    rows = sb.store.lists(NAME, kind="list")
    match = re.fullmatch(r'equals\(name,"(.*)"\)', request.query_params.get("filter", ""))
    if match:
        rows = [r for r in rows if r.name == match.group(1)]
    return collection(
        request,
        rows,
        lambda page: [list_resource(request, r) for r in page],
        default=10,
        maximum=10,
    )


@router.post("/api/lists")
async def create_list(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    name = str(body["data"]["attributes"]["name"])
    row = sb.store.add_list(ListRow(NAME, token(6), name, "list", created_at=sb.now()))
    return JSONResponse(
        {"data": list_resource(request, row)}, status_code=201, media_type=MEDIA
    )


@router.get("/api/lists/{list_id}")
async def get_list(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    row = sb.store.get_list(NAME, list_id)
    if row is None:
        raise not_found(f"A list with id {list_id} does not exist.")
    return JSONResponse({"data": list_resource(request, row)}, media_type=MEDIA)
