"""Customer.io Track API v1: identify a customer, record a customer's event."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse

from activations.sandbox.core import SandboxDep
from activations.sandbox.customerio.model import (
    MAX_NAME_BYTES,
    attributes_problem,
    event,
    identify,
    person,
)
from activations.sandbox.customerio.wire import body_of, meta_error, truthy

router = APIRouter()


@router.put("/api/v1/customers/{customer_id}")
async def put_customer(request: Request, customer_id: str,
                       sb: SandboxDep) -> JSONResponse:
    if len(customer_id.encode()) > MAX_NAME_BYTES:
        return meta_error(400, f"identifiers are at most {MAX_NAME_BYTES} bytes")
    body = await body_of(request)
    problem = attributes_problem(body)
    if problem is not None:
        return meta_error(400, f"{problem[0]}: {problem[1]}")
    contact = person(sb, {"id": customer_id}, create=not truthy(body.get("_update")))
    if contact is not None:
        identify(sb, contact, body)
    return JSONResponse({})


@router.post("/api/v1/customers/{customer_id}/events")
async def customer_event(request: Request, customer_id: str,
                         sb: SandboxDep) -> JSONResponse:
    body = await body_of(request)
    contact = person(sb, {"id": customer_id})
    assert contact is not None
    problem = event(sb, contact, body.get("name"), body.get("data"), body.get("id"),
                    body.get("timestamp"))
    if problem:
        return meta_error(400, problem)
    return JSONResponse({})
