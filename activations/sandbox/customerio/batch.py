"""Customer.io Track API v2 ``/api/v2/batch``: identify, event, delete,
suppress, unsuppress; per-entry problems answered with a 207."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from activations.sandbox.core import Sandbox, SandboxDep
from activations.sandbox.customerio.model import (
    IDENTIFIERS,
    attributes_problem,
    event,
    find,
    identify,
    person,
)
from activations.sandbox.customerio.wire import NAME, body_of

MAX_ENTRY_BYTES = 32 * 1024

router = APIRouter()


@router.post("/api/v2/batch")
async def batch(request: Request, sb: SandboxDep) -> Response:
    body = await body_of(request)
    entries = body.get("batch")
    if not isinstance(entries, list) or not entries:
        return JSONResponse({"errors": [{"reason": "invalid", "field": "batch",
                                         "message": "batch must be a non-empty array"}]},
                            status_code=400)
    errors: list[dict[str, Any]] = []

    def fail(index: int, reason: str, field: str, message: str) -> None:
        errors.append({"batch_index": index, "reason": reason, "field": field,
                       "message": message})

    with sb.store.tx():  # one commit for the whole batch
        for index, entry in enumerate(entries):
            apply_entry(sb, index, entry, fail)
    if errors:
        return JSONResponse({"errors": errors}, status_code=207)
    return JSONResponse({})


def apply_entry(sb: Sandbox, index: int, entry: Any,
                fail: Callable[[int, str, str, str], None]) -> None:
    """One batch entry, applied; a problem is told to ``fail`` (the 207's errors)."""
    if not isinstance(entry, dict):
        fail(index, "invalid", "", "each entry must be an object")
        return
    as_sent = json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
    if len(as_sent.encode()) > MAX_ENTRY_BYTES:
        fail(index, "too_large", "", "an entry is at most 32 KB")
        return
    if entry.get("type") != "person":
        return  # objects and deliveries are accepted and not modelled
    identifiers = entry.get("identifiers")
    given = [k for k in IDENTIFIERS if isinstance(identifiers, dict)
             and identifiers.get(k) not in (None, "")]
    if len(given) != 1:
        fail(index, "invalid", "identifiers", "exactly one identifier is required")
        return
    action = entry.get("action")
    attributes = entry.get("attributes") or {}
    if action == "identify":
        problem = attributes_problem(attributes)
        if problem is not None:
            fail(index, "invalid", *problem)
            return
        contact = person(sb, identifiers)
        assert contact is not None
        identify(sb, contact, attributes)
    elif action == "event":
        contact = person(sb, identifiers)
        assert contact is not None
        problem_text = event(sb, contact, entry.get("name"), attributes, entry.get("id"),
                             entry.get("timestamp"))
        if problem_text:
            fail(index, "invalid", "name", problem_text)
    elif action in ("delete", "suppress"):
        contact = find(sb, identifiers)
        if contact is not None:
            sb.store.delete_contact(NAME, contact.id)
        if action == "suppress":
            sb.store.add_suppression(NAME, str(identifiers[given[0]]), "suppress",
                                     sb.now())
    elif action == "unsuppress":
        sb.store.remove_suppression(NAME, str(identifiers[given[0]]), "suppress")
