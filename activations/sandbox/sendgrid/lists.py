"""SendGrid lists: list, create, remove contacts (membership only)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.sendgrid.wire import NAME, bad, body_of, error
from activations.sandbox.store import ListRow

router = APIRouter()


@router.get("/v3/marketing/lists")
async def get_lists(request: Request, sb: SandboxDep) -> JSONResponse:
    rows = sb.store.lists(NAME, kind="list")
    size = int(request.query_params.get("page_size", 100) or 100)
    return JSONResponse({"result": [list_view(sb, request, r) for r in rows[:size]],
                         "_metadata": {"self": str(request.url), "count": len(rows)}})


def list_view(sb: Sandbox, request: Request, row: ListRow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name,
            "contact_count": sb.store.count_members(NAME, row.id),
            "_metadata": {"self": f"{request.base_url}{NAME}/v3/marketing/lists/{row.id}"}}


@router.post("/v3/marketing/lists")
async def create_list(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    name = str(body.get("name") or "")
    if any(r.name == name for r in sb.store.lists(NAME, kind="list")):
        raise bad(f"a list named {name!r} already exists", "name")
    row = sb.store.add_list(ListRow(NAME, str(uuid.uuid4()), name, "list",
                                    created_at=sb.now()))
    return JSONResponse(list_view(sb, request, row), status_code=201)


@router.delete("/v3/marketing/lists/{list_id}/contacts")
async def remove_from_list(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    if sb.store.get_list(NAME, list_id) is None:
        return error(404, f"list {list_id} not found", "id")
    ids = [i for i in request.query_params.get("contact_ids", "").split(",") if i]
    if not ids:
        raise bad("contact_ids is required", "contact_ids")
    sb.store.remove_members(NAME, list_id, ids)
    job = sb.jobs.create(NAME, "list-remove", ["completed"],
                         {"requested": len(ids), "job_type": "delete"})
    return JSONResponse({"job_id": job["id"]}, status_code=202)
