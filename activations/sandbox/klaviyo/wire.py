"""Klaviyo on the wire, whatever the route: JSON:API errors, the gate's answers
(401, 429, 5xx, 413), the request guard (revision header, OpenAPI spec), body
reading and JSON:API paging."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Request
from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox import validation
from activations.sandbox.common import Reply, body_reader, next_link, page_params
from activations.sandbox.limits import Decision, throttled_headers

T = TypeVar("T")


NAME = "klaviyo"
MEDIA = "application/vnd.api+json"
MAX_BODY = 5 * 1024 * 1024


def error(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    pointer: str | None = None,
    parameter: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    source: dict[str, str] = {}
    if pointer is not None:
        source["pointer"] = pointer
    if parameter is not None:
        source["parameter"] = parameter
    body = {
        "errors": [
            {
                "id": str(uuid.uuid4()),
                "status": status,
                "code": code,
                "title": title,
                "detail": detail,
                "source": source,
            }
        ]
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA, headers=headers)


def invalid(detail: str, *, pointer: str | None = None, parameter: str | None = None) -> Reply:
    return Reply(
        error(400, "invalid", "Invalid input.", detail, pointer=pointer, parameter=parameter)
    )


def not_found(detail: str) -> Reply:
    return Reply(error(404, "not_found", "Not found.", detail))


def authenticate(headers: Headers, key: str) -> str | None:
    value = headers.get("authorization", "")
    prefix = "Klaviyo-API-Key "
    presented = value[len(prefix) :].strip() if value.startswith(prefix) else ""
    return presented if presented and presented == key else None


def unauthorized() -> Response:
    return error(
        401,
        "not_authenticated",
        "Authentication credentials were not provided.",
        "Missing or invalid private key.",
        pointer="/data/",
    )


def throttled(decision: Decision) -> Response:
    seconds = max(1, int(decision.reset_in or 1))
    return error(
        429,
        "throttled",
        "Request was throttled.",
        f"Request was throttled. Expected available in {seconds} second"
        f"{'s' if seconds != 1 else ''}.",
        headers=throttled_headers(NAME, decision),
    )


def server_error(status: int) -> Response:
    return error(
        status,
        "server_error" if status == 500 else "service_unavailable",
        "A server error occurred.",
        "Sandbox fault: the server failed; retry later.",
    )


def too_large(size: int) -> Response:
    return error(
        413,
        "request_too_large",
        "Request entity too large.",
        f"The payload is {size} bytes; the maximum is {MAX_BODY} bytes (5 MB).",
    )


def count_records(method: str, path: str, body: Any) -> int | None:
    data = body.get("data")
    if isinstance(data, list):
        return len(data)
    attributes = data.get("attributes", {}) if isinstance(data, dict) else {}
    for key in ("profiles", "events-bulk-create"):
        if isinstance(attributes.get(key), dict):
            return len(attributes[key].get("data", []))
    return 1 if data else None


async def guard(request: Request) -> None:
    problem = validation.check_revision(request.headers)
    if problem is not None:
        raise invalid(problem.message, parameter=problem.parameter)
    body = await request.body()
    path = request.url.path[len("/" + NAME) :]
    violations = validation.validate(
        NAME, request.method, path, request.query_params.multi_items(), request.headers, body
    )
    if violations:
        first = violations[0]
        raise invalid(
            first.message,
            pointer=first.pointer if first.parameter is None else None,
            parameter=first.parameter,
        )


body_of = body_reader(lambda text: invalid(text, pointer="/"))


def collection(
    request: Request,
    items: Sequence[T],
    render: Callable[[Sequence[T]], list[Any]],
    *,
    default: int = 20,
    maximum: int = 100,
) -> JSONResponse:
    """The page of ``items`` the request asks for (``page[cursor]``, ``page[size]``),
    rendered, with its JSON:API links."""
    offset, size = page_params(request, default=default, maximum=maximum)
    return JSONResponse(
        {
            "data": render(items[offset : offset + size]),
            "links": {
                "self": str(request.url),
                "next": next_link(request, offset, size, len(items)),
                "prev": None,
            },
        },
        media_type=MEDIA,
    )


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/" + NAME
