"""Customer.io on the wire, whatever the route: ``{"meta": {"error"}}`` errors,
the gate's answers (401, 429, 5xx, 413) and body reading."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox.common import Reply, basic, body_reader
from activations.sandbox.limits import Decision

NAME = "customerio"
MAX_BATCH_BYTES = 500 * 1024


def meta_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"meta": {"error": message}}, status_code=status)


def authenticate(headers: Headers, key: str) -> str | None:
    credentials = basic(headers)
    if credentials is None:
        return None
    presented = f"{credentials[0]}:{credentials[1]}"
    return presented if presented == key else None


def unauthorized() -> Response:
    return meta_error(401, "Unauthorized request")


def throttled(decision: Decision) -> Response:
    return meta_error(429, "rate limit exceeded")


def server_error(status: int) -> Response:
    return meta_error(status, "internal server error (sandbox fault); retry later")


def too_large(size: int) -> Response:
    return JSONResponse({"errors": [{"reason": "too_large", "message":
                                     f"batch of {size} bytes exceeds the 500 KB limit"}]},
                        status_code=400)


def count_records(method: str, path: str, body: Any) -> int | None:
    for key in ("batch", "ids"):
        if isinstance(body.get(key), list):
            return len(body[key])
    return 1 if body else None


def truthy(value: Any) -> bool:
    return value is True or value == 1 or (isinstance(value, str) and value.lower() in
                                           ("true", "1"))


body_of = body_reader(lambda text: Reply(meta_error(400, text)))
