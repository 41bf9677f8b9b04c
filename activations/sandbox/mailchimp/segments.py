"""Mailchimp static segments (tags are static segments, as in Mailchimp):
list, create, add and remove members."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.mailchimp.model import (
    ensure_list,
    member_id,
    member_view,
    segment_view,
    tag_row,
)
from activations.sandbox.mailchimp.wire import (
    MAX_MEMBERS,
    NAME,
    body_of,
    collection,
    invalid,
    missing,
)

router = APIRouter()


@router.get("/lists/{list_id}/segments")
async def get_segments(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    ensure_list(sb, list_id)
    kind = request.query_params.get("type")
    rows = sb.store.lists(NAME, kind="tag", parent_id=list_id)
    if kind not in (None, "static"):
        rows = []
    return collection(request, "segments", rows, lambda r: segment_view(sb, r),
                      list_id=list_id)


@router.post("/lists/{list_id}/segments")
async def create_segment(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    ensure_list(sb, list_id)
    name = str(body.get("name") or "").strip()
    if not name:
        raise invalid("The resource submitted could not be validated.", "name",
                      "This value should not be blank.")
    if tag_row(sb, list_id, name, create=False) is not None:
        raise invalid(f"A segment or tag named {name!r} already exists.", "name")
    row = tag_row(sb, list_id, name, create=True)
    assert row is not None
    emails = [str(e).lower() for e in body.get("static_segment") or []]
    ids = [member_id(list_id, e) for e in emails]
    known = [c.id for c in sb.store.contacts(NAME, ids=ids)]
    sb.store.add_members(NAME, row.id, known, sb.now())
    return JSONResponse(segment_view(sb, row))


@router.post("/lists/{list_id}/segments/{segment_id}")
async def segment_members(request: Request, list_id: str, segment_id: str,
                          sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    row = sb.store.get_list(NAME, segment_id)
    if row is None or row.parent_id != list_id:
        raise missing(f"segment {segment_id} in list {list_id}")
    to_add = [str(e) for e in body.get("members_to_add") or []]
    to_remove = [str(e) for e in body.get("members_to_remove") or []]
    for field, items in (("members_to_add", to_add), ("members_to_remove", to_remove)):
        if len(items) > MAX_MEMBERS:
            raise invalid("The resource submitted could not be validated.", field,
                          f"Schema describes array with at most {MAX_MEMBERS} items, "
                          f"{len(items)} given.")
    added, removed, not_found = [], [], []
    for email in to_add:
        contact = sb.store.get_contact(NAME, member_id(list_id, email))
        if contact is None:
            not_found.append(email)
            continue
        sb.store.add_members(NAME, row.id, [contact.id], sb.now())
        added.append(member_view(sb, contact))
    for email in to_remove:
        contact = sb.store.get_contact(NAME, member_id(list_id, email))
        if contact is None:
            not_found.append(email)
            continue
        sb.store.remove_members(NAME, row.id, [contact.id])
        removed.append(member_view(sb, contact))
    errors = ([{"email_addresses": not_found, "error": "Email addresses not found in list"}]
              if not_found else [])
    return JSONResponse({"members_added": added, "members_removed": removed,
                         "errors": errors, "total_added": len(added),
                         "total_removed": len(removed), "error_count": len(not_found)})
