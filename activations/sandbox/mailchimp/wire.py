"""Mailchimp on the wire, whatever the route: ``application/problem+json``
errors, the gate's answers (401, 429, 5xx), body reading and ``count``/``offset``
paging."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox.common import Reply, basic, bearer, body_reader
from activations.sandbox.limits import Decision

T = TypeVar("T")


NAME = "mailchimp"
PROBLEM = "application/problem+json"
MAX_MEMBERS = 500
ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"


def problem(status: int, title: str, detail: str,
            errors: list[dict[str, str]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": ERRORS_DOC, "title": title, "status": status,
                            "detail": detail, "instance": str(uuid.uuid4())}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def invalid(detail: str, field: str | None = None, message: str | None = None) -> Reply:
    errors = [{"field": field, "message": message or detail}] if field else None
    return Reply(problem(400, "Invalid Resource", detail, errors))


def missing(what: str) -> Reply:
    return Reply(problem(404, "Resource Not Found",
                         f"The requested resource could not be found: {what}."))


def compliance(email: str) -> str:
    return (f"{email} is in a compliance state due to unsubscribe, bounce, or compliance "
            "review and cannot be subscribed.")


def authenticate(headers: Headers, key: str) -> str | None:
    credentials = basic(headers)
    presented = credentials[1] if credentials else bearer(headers)
    return presented if presented and presented == key else None


def unauthorized() -> Response:
    return problem(401, "API Key Invalid", "Your API key may be invalid, or you've attempted "
                   "to access the wrong datacenter.")


def throttled(decision: Decision) -> Response:
    detail = ("You have exceeded the limit of 10 simultaneous connections."
              if decision.limit == 10 else "You have exceeded the request limit.")
    return problem(429, "Too Many Requests", detail)


def server_error(status: int) -> Response:
    return problem(status, "Internal Server Error" if status == 500 else "Service Unavailable",
                   "Sandbox fault: the server failed; retry later.")


def count_records(method: str, path: str, body: Any) -> int | None:
    for key in ("members", "members_to_add", "tags"):
        if isinstance(body.get(key), list):
            return len(body[key]) + len(body.get("members_to_remove") or [])
    return 1 if body else None


body_of = body_reader(lambda text: invalid(f"The request body could not be parsed: {text}"))


def count_offset(request: Request, default: int = 10) -> tuple[int, int]:
    try:
        count = min(1000, max(1, int(request.query_params.get("count", default))))
        offset = max(0, int(request.query_params.get("offset", 0)))
    except ValueError as exc:
        raise invalid("count and offset must be integers") from exc
    return count, offset


def collection(request: Request, key: str, rows: Sequence[T], view: Callable[[T], Any],
               **extra: Any) -> JSONResponse:
    """The page of ``rows`` the request asks for (``count``, ``offset``), viewed,
    with ``extra`` fields and the total."""
    count, offset = count_offset(request)
    return JSONResponse({key: [view(r) for r in rows[offset:offset + count]], **extra,
                         "total_items": len(rows)})
