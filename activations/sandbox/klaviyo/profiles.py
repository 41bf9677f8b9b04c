"""Klaviyo profile reads, filtered (``equals``/``any`` on email, external_id,
phone_number, id), with their subscriptions on request."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.klaviyo.model import profile_resource
from activations.sandbox.klaviyo.wire import NAME, collection, invalid

router = APIRouter()


@router.get("/api/profiles")
async def get_profiles(request: Request, sb: SandboxDep) -> JSONResponse:
    raw_filter = request.query_params.get("filter")
    if raw_filter:
        column, values = parse_filter(raw_filter)
        contacts = sb.store.contacts_where(NAME, column, values)
    else:
        contacts = sb.store.contacts(NAME)
    subs = "subscriptions" in request.query_params.get("additional-fields[profile]", "")
    return collection(
        request,
        contacts,
        lambda page: [profile_resource(request, c, subscriptions=subs) for c in page],
    )


FILTER_COLUMNS = {"email": "email", "external_id": "external_id", "phone_number": "phone",
                  "id": "id"}


def parse_filter(raw: str) -> tuple[str, list[str]]:
    """``equals(field,"v")`` or ``any(field,["a","b"])`` -> (store column, values)."""
    equals = re.fullmatch(r'equals\((\w+),"(.*)"\)', raw.strip())
    any_of = re.fullmatch(r"any\((\w+),\[(.*)\]\)", raw.strip())
    field, values = None, []
    if equals:
        field, values = equals.group(1), [equals.group(2)]
    elif any_of:
        field = any_of.group(1)
        values = [v.strip().strip('"') for v in any_of.group(2).split(",") if v.strip()]
    if field not in FILTER_COLUMNS:
        raise invalid(f"Unsupported filter {raw!r}: the sandbox supports equals(field,\"value\") "
                      "and any(field,[\"a\",\"b\"]) on email, external_id, phone_number, id.",
                      parameter="filter")
    if field == "email":
        values = [v.lower() for v in values]
    return FILTER_COLUMNS[field], values
