"""Mailchimp list members: read, upsert (PUT), update (PATCH), their tags and
their events."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from activations.sandbox.common import Reply, md5_email
from activations.sandbox.common import valid_email as email_ok
from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.mailchimp.model import (
    LOCKED,
    STATUSES,
    ensure_list,
    get_member,
    member_view,
    merge_problem,
    tag_row,
    write_member,
)
from activations.sandbox.mailchimp.wire import (
    NAME,
    body_of,
    collection,
    compliance,
    invalid,
    missing,
    problem,
)

EVENT_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{2,30}$")

router = APIRouter()


@router.get("/lists/{list_id}/members")
async def get_members(request: Request, list_id: str, sb: SandboxDep) -> JSONResponse:
    if sb.store.get_list(NAME, list_id) is None:
        raise missing(f"list {list_id}")
    wanted = request.query_params.get("status")
    contacts = sb.store.contacts(NAME, ids=sb.store.member_ids(NAME, list_id))
    contacts.sort(key=lambda c: (c.created_at, c.id))
    if wanted:
        contacts = [c for c in contacts if c.consent.get("status") == wanted]
    return collection(request, "members", contacts, lambda c: member_view(sb, c),
                      list_id=list_id)


@router.get("/lists/{list_id}/members/{subscriber_hash}")
async def get_one(list_id: str, subscriber_hash: str, sb: SandboxDep) -> JSONResponse:
    contact = get_member(sb, list_id, subscriber_hash)
    if contact is None:
        raise missing(f"member {subscriber_hash} in list {list_id}")
    return JSONResponse(member_view(sb, contact))


async def member_write(sb: Sandbox, request: Request, list_id: str, subscriber_hash: str,
                       put: bool) -> JSONResponse:
    body = await body_of(request)
    existing = get_member(sb, list_id, subscriber_hash)
    if not put and existing is None:
        raise missing(f"member {subscriber_hash} in list {list_id}")
    email = body.get("email_address", existing.email if existing else None)
    if put and not body.get("email_address"):
        raise invalid("The resource submitted could not be validated.", "email_address",
                      "This value should not be blank.")
    if not email_ok(email):
        raise invalid(f"{email} looks fake or invalid, please enter a real email address.",
                      "email_address")
    if md5_email(str(email)) != subscriber_hash.lower():
        raise invalid("The subscriber hash in the path does not match email_address.",
                      "email_address")
    if put and not body.get("status_if_new"):
        raise invalid("The resource submitted could not be validated.", "status_if_new",
                      "This value should not be blank.")
    status = body.get("status")
    for value in (status, body.get("status_if_new")):
        if value is not None and value not in STATUSES:
            raise invalid(f"Invalid status {value!r}.", "status")
    trouble = merge_problem(sb, list_id, body.get("merge_fields"))
    if trouble is not None:
        raise invalid(trouble[1], trouble[0])
    if existing is not None and status == "subscribed" and \
            existing.consent.get("status") in LOCKED:
        raise Reply(problem(400, "Member In Compliance State", compliance(str(email))))
    ensure_list(sb, list_id)
    chosen = status if existing is not None else (body.get("status_if_new") or status)
    contact = write_member(sb, list_id, {**body, "email_address": email}, existing, chosen)
    return JSONResponse(member_view(sb, contact))


@router.put("/lists/{list_id}/members/{subscriber_hash}")
async def put_member(request: Request, list_id: str, subscriber_hash: str,
                     sb: SandboxDep) -> JSONResponse:
    return await member_write(sb, request, list_id, subscriber_hash, put=True)


@router.patch("/lists/{list_id}/members/{subscriber_hash}")
async def patch_member(request: Request, list_id: str, subscriber_hash: str,
                       sb: SandboxDep) -> JSONResponse:
    return await member_write(sb, request, list_id, subscriber_hash, put=False)


@router.post("/lists/{list_id}/members/{subscriber_hash}/tags")
async def member_tags(request: Request, list_id: str, subscriber_hash: str,
                      sb: SandboxDep) -> Response:
    body = await body_of(request)
    contact = get_member(sb, list_id, subscriber_hash)
    if contact is None:
        raise missing(f"member {subscriber_hash} in list {list_id}")
    for tag in body.get("tags") or []:
        name, status = str(tag.get("name", "")), tag.get("status")
        if not name or status not in ("active", "inactive"):
            raise invalid("Each tag needs a name and a status of active or inactive.",
                          "tags")
        row = tag_row(sb, list_id, name, create=status == "active")
        if row is None:
            continue
        if status == "active":
            sb.store.add_members(NAME, row.id, [contact.id], sb.now())
        else:
            sb.store.remove_members(NAME, row.id, [contact.id])
    return Response(status_code=204)


@router.post("/lists/{list_id}/members/{subscriber_hash}/events")
async def member_event(request: Request, list_id: str, subscriber_hash: str,
                       sb: SandboxDep) -> Response:
    body = await body_of(request)
    contact = get_member(sb, list_id, subscriber_hash)
    if contact is None:
        raise missing(f"member {subscriber_hash} in list {list_id}")
    name = str(body.get("name", ""))
    if not EVENT_NAME_RE.match(name):
        raise invalid("Event names are 2 to 30 letters, digits, dashes or underscores.",
                      "name")
    sb.store.add_event(NAME, contact.id, name, body, sb.now())
    return Response(status_code=204)
