"""Klaviyo list membership: the profiles in a list, and adding or removing
profiles by id (membership only, consent untouched)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from activations.sandbox.common import next_link, page_params
from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.klaviyo.model import ensure_list, profile_identifiers, profile_resource
from activations.sandbox.klaviyo.wire import MEDIA, NAME, body_of, collection, invalid, not_found

MAX_LIST_CHANGE = 1_000

router = APIRouter()


@router.get("/api/lists/{list_id}/profiles")
async def list_profiles(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    if sb.store.get_list(NAME, list_id) is None:
        raise not_found(f"A list with id {list_id} does not exist.")
    subs = "subscriptions" in request.query_params.get("additional-fields[profile]", "")
    return collection(
        request,
        sb.store.member_ids(NAME, list_id),
        lambda page: [
            profile_resource(request, c, subscriptions=subs)
            for c in sb.store.contacts(NAME, ids=page)
        ],
    )


@router.get("/api/lists/{list_id}/relationships/profiles")
async def list_profile_ids(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    if sb.store.get_list(NAME, list_id) is None:
        raise not_found(f"A list with id {list_id} does not exist.")
    ids = sb.store.member_ids(NAME, list_id)
    offset, size = page_params(request, default=20, maximum=1000)
    return JSONResponse(
        {
            "data": profile_identifiers(ids[offset : offset + size]),
            "links": {
                "self": str(request.url),
                "next": next_link(request, offset, size, len(ids)),
            },
        },
        media_type=MEDIA,
    )


async def membership(sb: Sandbox, request: Request, list_id: str, add: bool) -> Response:
    body = await body_of(request)
    data = body.get("data") or []
    if len(data) > MAX_LIST_CHANGE:
        raise invalid(
            f"At most {MAX_LIST_CHANGE} profiles per request; got {len(data)}.", pointer="/data"
        )
    ids = [str(item.get("id")) for item in data]
    known = {c.id for c in sb.store.contacts(NAME, ids=ids)}
    for index, profile in enumerate(ids):
        if profile not in known:
            raise invalid(f"Profile {profile} does not exist.", pointer=f"/data/{index}/id")
    if add:
        ensure_list(sb, list_id)
        sb.store.add_members(NAME, list_id, ids, sb.now())
    elif sb.store.get_list(NAME, list_id) is not None:
        sb.store.remove_members(NAME, list_id, ids)
    return Response(status_code=204)


@router.post("/api/lists/{list_id}/relationships/profiles")
async def add_to_list(request: Request, list_id: str, sb: SandboxDep) -> Response:
    return await membership(sb, request, list_id, add=True)


@router.delete("/api/lists/{list_id}/relationships/profiles")
async def remove_from_list(request: Request, list_id: str, sb: SandboxDep) -> Response:
    return await membership(sb, request, list_id, add=False)
