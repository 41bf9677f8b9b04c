"""Customer.io manual segments: add and remove customers (created by the first
add)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.customerio.wire import NAME, body_of, meta_error
from activations.sandbox.store import ListRow

router = APIRouter()


async def segment_change(sb: Sandbox, request: Request, segment_id: str,
                         add: bool) -> JSONResponse:
    body = await body_of(request)
    ids = body.get("ids")
    if not isinstance(ids, list):
        return meta_error(400, "ids must be an array of customer ids")
    if sb.store.get_list(NAME, segment_id) is None:
        if not add:
            return JSONResponse({})
        sb.store.add_list(ListRow(NAME, segment_id, f"segment {segment_id}", "segment",
                                  auto_created=True, created_at=sb.now()))
    known = [c.id for c in sb.store.contacts(NAME, ids=[str(i) for i in ids])]
    if add:
        sb.store.add_members(NAME, segment_id, known, sb.now())
    else:
        sb.store.remove_members(NAME, segment_id, known)
    return JSONResponse({})


@router.post("/api/v1/segments/{segment_id}/add_customers")
async def add_customers(request: Request, segment_id: str, sb: SandboxDep) -> JSONResponse:
    return await segment_change(sb, request, segment_id, add=True)


@router.post("/api/v1/segments/{segment_id}/remove_customers")
async def remove_customers(request: Request, segment_id: str, sb: SandboxDep) -> JSONResponse:
    return await segment_change(sb, request, segment_id, add=False)
