"""Infobip People events: one custom event for an existing person
(``POST /peopleevents/2/persons/{personId}/definitions/{definitionId}/events``);
never deduplicated."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.infobip.model import TYPES, find
from activations.sandbox.infobip.wire import NAME, body_of, error

router = APIRouter()


@router.post("/peopleevents/2/persons/{person_id}/definitions/{definition_id}/events")
async def send_event(person_id: str, definition_id: str, request: Request,
                     sb: SandboxDep) -> JSONResponse:
    kind = request.query_params.get("identifierType")
    if kind not in TYPES:
        return error(400, "BAD_REQUEST", "identifierType is required: one of "
                     + ", ".join(TYPES))
    body = await body_of(request)
    properties = body.get("properties")
    if properties is not None and not isinstance(properties, dict):
        return error(400, "BAD_REQUEST", "properties must be an object")
    contact = find(sb, kind, person_id)
    if contact is None:
        return error(404, "NOT_FOUND", "Person not found: an event needs an existing person")
    event_id = str(uuid.uuid4()).upper()
    sb.store.add_event(NAME, contact.id, definition_id,
                       {"eventId": event_id, "properties": properties or {}}, sb.now())
    return JSONResponse({"eventId": event_id, "definitionId": definition_id,
                         "personId": person_id}, status_code=201)
