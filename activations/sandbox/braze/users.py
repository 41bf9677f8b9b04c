"""Braze ``/users/track`` (attributes, events, purchases) and ``/users/delete``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.braze.model import (
    IDENTIFIER_ERROR,
    apply_attributes,
    attribute_problem,
    find_user,
    has_identifier,
    user_for,
)
from activations.sandbox.braze.wire import MAX_IDS, MAX_PER_ARRAY, NAME, body_of, fatal
from activations.sandbox.common import parse_time
from activations.sandbox.core import Sandbox, SandboxDep

router = APIRouter()


@router.post("/users/track")
async def track(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    arrays = {k: body.get(k) or [] for k in ("attributes", "events", "purchases")}
    for key, items in arrays.items():
        if not isinstance(items, list):
            return fatal(400, f"'{key}' must be an array")
        if len(items) > MAX_PER_ARRAY:
            return fatal(400, "Max Input Length Exceeded",
                         [f"{key}: {len(items)} objects, at most {MAX_PER_ARRAY}"])
    errors: list[dict[str, Any]] = []
    counts = {"attributes": 0, "events": 0, "purchases": 0}
    with sb.store.tx():  # one commit for the whole batch
        counts["attributes"] = track_attributes(sb, arrays["attributes"], errors)
        for array in ("events", "purchases"):
            counts[array] = track_events(sb, array, arrays[array], errors)
    answer: dict[str, Any] = {"message": "success",
                              "attributes_processed": counts["attributes"],
                              "events_processed": counts["events"],
                              "purchases_processed": counts["purchases"]}
    if errors:
        answer["errors"] = errors
    return JSONResponse(answer, status_code=201)


def track_attributes(sb: Sandbox, items: list[Any], errors: list[dict[str, Any]]) -> int:
    """Apply the attribute objects of a track call; the number processed (errors noted)."""
    processed = 0
    for index, obj in enumerate(items):
        if not has_identifier(obj):
            errors.append({"type": IDENTIFIER_ERROR, "input_array": "attributes",
                           "index": index})
            continue
        problem = attribute_problem(obj)
        if problem is not None:
            errors.append({"type": problem, "input_array": "attributes", "index": index})
            continue
        create = not (obj.get("user_alias") and obj.get("_update_existing_only", True))
        if obj.get("_update_existing_only") is True:
            create = False
        contact = user_for(sb, obj, create)
        if contact is not None:
            apply_attributes(sb, contact, obj)
            sb.count_write(NAME, contact.external_id or contact.email, obj)
        processed += 1
    return processed


def track_events(sb: Sandbox, array: str, items: list[Any], errors: list[dict[str, Any]]) -> int:
    """Record the events or purchases of a track call; the number processed (errors noted)."""
    processed = 0
    for index, obj in enumerate(items):
        if not has_identifier(obj):
            errors.append({"type": IDENTIFIER_ERROR, "input_array": array,
                           "index": index})
            continue
        needed = ("name", "time") if array == "events" else (
            "product_id", "currency", "price", "time")
        absent = [k for k in needed if obj.get(k) in (None, "")]
        if absent or parse_time(obj.get("time")) is None:
            errors.append({"type": f"'{(absent or ['time'])[0]}' is required and must "
                           "be valid", "input_array": array, "index": index})
            continue
        contact = user_for(sb, obj, create=True)
        assert contact is not None
        sb.store.save_contact(contact)
        name = obj["name"] if array == "events" else f"purchase:{obj['product_id']}"
        sb.store.add_event(NAME, contact.id, name, obj, sb.now())  # never deduplicated
        processed += 1
    return processed


@router.post("/users/delete")
async def delete(request: Request, sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    kinds = [k for k in ("external_ids", "braze_ids", "user_aliases", "emails")
             if body.get(k)]
    if len(kinds) != 1:
        return fatal(400, "Exactly one of external_ids, braze_ids, user_aliases or "
                     "emails is required")
    items = body[kinds[0]]
    if len(items) > MAX_IDS:
        return fatal(400, f"At most {MAX_IDS} identifiers per request; got {len(items)}")
    deleted = 0
    for item in items:
        key = {"external_ids": "external_id", "braze_ids": "braze_id",
               "user_aliases": "user_alias", "emails": "email"}[kinds[0]]
        contact = find_user(sb, {key: item})
        if contact is not None and sb.store.delete_contact(NAME, contact.id):
            deleted += 1
    return JSONResponse({"message": "success", "deleted": deleted}, status_code=201)
