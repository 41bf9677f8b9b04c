"""Infobip People: people in bulk (``POST /people/2/persons/batch``, a 200 listing
per-person errors by index), one person read and delete by identifier."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.infobip.model import STANDARD, find, problem, upsert
from activations.sandbox.infobip.wire import NAME, body_of, error, people_of, service_exception
from activations.sandbox.store import Contact

router = APIRouter()


def view(sb: Sandbox, contact: Contact) -> dict[str, Any]:
    return {"externalId": contact.external_id or contact.id,
            **{k: v for k, v in contact.attributes.items() if k in STANDARD},
            "customAttributes": {k: v for k, v in contact.attributes.items()
                                 if k not in STANDARD},
            "tags": sb.store.lists_of(NAME, contact.id),
            "contactInformation": {
                "phone": [{"number": contact.phone.lstrip("+")}] if contact.phone else [],
                "email": [{"address": contact.email}] if contact.email else []}}


@router.post("/people/2/persons/batch")
async def batch(request: Request, sb: SandboxDep) -> JSONResponse:
    people = people_of(await body_of(request))
    errors: list[dict[str, Any]] = []
    with sb.store.tx():  # one commit for the whole batch
        for index, person in enumerate(people):
            text = problem(person)
            if text is None:
                text = upsert(sb, person)
            if text is not None:
                errors.append({"index": index, **service_exception("BAD_REQUEST", text)})
    return JSONResponse({"successCount": len(people) - len(errors),
                         "errorCount": len(errors), "errors": errors})


@router.get("/people/2/persons")
async def persons(request: Request, sb: SandboxDep) -> JSONResponse:
    identifier = request.query_params.get("identifier")
    if identifier is None:
        return JSONResponse({"persons": [view(sb, c) for c in sb.store.contacts(NAME)[:100]]})
    contact = find(sb, request.query_params.get("type", "EXTERNAL_ID"), identifier)
    if contact is None:
        return error(404, "NOT_FOUND", "Person not found")
    return JSONResponse(view(sb, contact))


@router.delete("/people/2/persons")
async def delete(request: Request, sb: SandboxDep) -> JSONResponse:
    contact = find(sb, request.query_params.get("type", "EXTERNAL_ID"),
                   request.query_params.get("identifier"))
    if contact is None or not sb.store.delete_contact(NAME, contact.id):
        return error(404, "NOT_FOUND", "Person not found")
    return JSONResponse({})
