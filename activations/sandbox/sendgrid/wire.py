"""SendGrid on the wire, whatever the route: ``{"errors": [...]}`` errors, the
gate's answers (401, 429, 5xx, 413), the request guard (OpenAPI spec) and body
reading."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox import validation
from activations.sandbox.common import Reply, bearer, body_reader
from activations.sandbox.limits import Decision, throttled_headers

NAME = "sendgrid"
MAX_BODY = 6 * 1024 * 1024


def error(status: int, message: str, field: str | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"errors": [{"field": field, "message": message}]}, status_code=status,
                        headers=headers)


def bad(message: str, field: str | None = None) -> Reply:
    return Reply(error(400, message, field))


def authenticate(headers: Headers, key: str) -> str | None:
    presented = bearer(headers)
    return presented if presented and presented == key else None


def unauthorized() -> Response:
    return error(401, "authorization required")


def throttled(decision: Decision) -> Response:
    return error(429, "too many requests", headers=throttled_headers(NAME, decision))


def server_error(status: int) -> Response:
    return error(status, "internal server error (sandbox fault); retry later")


def too_large(size: int) -> Response:
    return error(413, f"request body of {size} bytes exceeds the 6 MB limit")


def count_records(method: str, path: str, body: Any) -> int | None:
    for key in ("contacts", "identifiers", "recipient_emails"):
        if isinstance(body.get(key), list):
            return len(body[key])
    return None


def field_path(pointer: str | None) -> str | None:
    """``/contacts/0/first_name`` -> ``contacts[0].first_name`` (SendGrid's field style)."""
    if not pointer or pointer == "/":
        return None
    out = ""
    for part in pointer.strip("/").split("/"):
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


async def guard(request: Request) -> None:
    path = request.url.path[len("/" + NAME):]
    if path.startswith("/files/"):
        return
    violations = validation.validate(NAME, request.method, path,
                                     request.query_params.multi_items(),
                                     request.headers, await request.body())
    if violations:
        first = violations[0]
        raise bad(first.message, first.parameter or field_path(first.pointer))


body_of = body_reader(bad)
