"""Braze on the wire, whatever the route: ``{"message", "errors"}`` errors, the
gate's answers (401, 429, 5xx) and body reading."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox.common import Reply, bearer, body_reader
from activations.sandbox.limits import Decision, throttled_headers

NAME = "braze"
MAX_PER_ARRAY = 75
MAX_IDS = 50


def fatal(status: int, message: str, errors: list[Any] | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message, "errors": errors or []}, status_code=status,
                        headers=headers)


def authenticate(headers: Headers, key: str) -> str | None:
    presented = bearer(headers)
    return presented if presented and presented == key else None


def unauthorized() -> Response:
    return fatal(401, "Invalid API Key")


def throttled(decision: Decision) -> Response:
    return fatal(429, "Rate Limited", headers=throttled_headers(NAME, decision))


def server_error(status: int) -> Response:
    return fatal(status, "Internal Server Error" if status == 500 else "Service Unavailable")


def count_records(method: str, path: str, body: Any) -> int | None:
    total = 0
    for key in ("attributes", "events", "purchases", "external_ids", "braze_ids",
                "user_aliases", "emails", "subscription_groups"):
        if isinstance(body.get(key), list):
            total += len(body[key])
    return total or None


body_of = body_reader(lambda text: Reply(fatal(400, f"Invalid JSON: {text}")))
