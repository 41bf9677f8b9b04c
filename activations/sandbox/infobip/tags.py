"""Infobip tags: the account's tags, and tag or untag up to 1,000 people at once
(``PATCH``/``DELETE /people/2/tags/{name}/persons``; a person not found is
listed by index, the others are done)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.infobip.model import MAX_TEXT, find
from activations.sandbox.infobip.wire import NAME, body_of, error, people_of, service_exception
from activations.sandbox.sms import set_membership

router = APIRouter()


@router.get("/people/2/tags")
async def tags(sb: SandboxDep) -> JSONResponse:
    return JSONResponse({"tags": [{"name": row.name} for row in sb.store.lists(NAME)]})


def _apply(sb: Sandbox, name: str, people: list[Any], member: bool) -> JSONResponse:
    errors: list[dict[str, Any]] = []
    with sb.store.tx():
        for index, item in enumerate(people):
            query = (item or {}).get("query") if isinstance(item, dict) else None
            contact = find(sb, (query or {}).get("type"), (query or {}).get("identifier"))
            if contact is None:
                errors.append({"index": index,
                               **service_exception("NOT_FOUND", "Person not found")})
                continue
            set_membership(sb, NAME, name, "tag", contact.id, member)
            sb.count_write(NAME, contact.id, {"tag": name, "member": member})
    return JSONResponse({"errors": errors} if errors else {})


@router.patch("/people/2/tags/{name}/persons")
async def tag_people(name: str, request: Request, sb: SandboxDep) -> JSONResponse:
    if not 0 < len(name) <= MAX_TEXT:
        return error(400, "BAD_REQUEST", f"A tag name has 1 to {MAX_TEXT} characters")
    return _apply(sb, name, people_of(await body_of(request)), True)


@router.delete("/people/2/tags/{name}/persons")
async def untag_people(name: str, request: Request, sb: SandboxDep) -> JSONResponse:
    people = people_of(await body_of(request))
    if sb.store.get_list(NAME, name) is None:
        return error(404, "NOT_FOUND", f"Tag {name!r} not found")
    return _apply(sb, name, people, False)
