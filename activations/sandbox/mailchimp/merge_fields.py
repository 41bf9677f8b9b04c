"""Mailchimp merge fields: list and create (new lists get the defaults)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.mailchimp.model import ensure_list, merge_fields, merge_view
from activations.sandbox.mailchimp.wire import NAME, body_of, collection, invalid

router = APIRouter()


@router.get("/lists/{list_id}/merge-fields")
async def get_merge_fields(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    ensure_list(sb, list_id)
    fields = sb.store.fields(NAME, list_id)
    return collection(request, "merge_fields", fields, lambda f: merge_view(list_id, f),
                      list_id=list_id)


@router.post("/lists/{list_id}/merge-fields")
async def create_merge_field(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    ensure_list(sb, list_id)
    name = str(body.get("name") or "").strip()
    type_ = str(body.get("type") or "")
    if not name or type_ not in ("text", "number", "date", "birthday", "address", "phone",
                                 "url", "imageurl", "zip", "dropdown", "radio"):
        raise invalid("The resource submitted could not be validated.",
                      "type" if name else "name",
                      "A merge field needs a name and a valid type.")
    tag = str(body.get("tag") or re.sub(r"[^A-Z0-9_]", "", name.upper()))[:10].upper()
    if tag in merge_fields(sb, list_id):
        raise invalid(f'A Merge Field with the tag "{tag}" already exists for this list.',
                      "tag")
    merge_id = str(len(sb.store.fields(NAME, list_id)) + 1)
    sb.store.add_field(NAME, list_id, merge_id, tag, f"{type_}|{name}")
    return JSONResponse(merge_view(list_id, {"id": merge_id, "name": tag,
                                             "type": f"{type_}|{name}"}))
