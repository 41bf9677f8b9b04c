"""Segment (Twilio Engage) on the wire, whatever the route: ``{"success": false,
"message"}`` errors, Basic auth with the write key as user name, the gate's
answers (401, 429 with ``X-RateLimit-Reset`` seconds, 5xx, 400 above 500 KB)
and body reading."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox.common import Reply, basic, body_reader
from activations.sandbox.limits import Decision, throttled_headers

NAME = "twilio"
MAX_BATCH_BYTES = 500 * 1024
MAX_MESSAGE_BYTES = 32 * 1024


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"success": False, "message": message}, status_code=status,
                        headers=headers)


def authenticate(headers: Headers, key: str) -> str | None:
    pair = basic(headers)
    return pair[0] if pair and pair[0] and pair[0] == key else None


def unauthorized() -> Response:
    return error(401, "Invalid write key")


def throttled(decision: Decision) -> Response:
    return error(429, "Too many requests", headers=throttled_headers(NAME, decision))


def server_error(status: int) -> Response:
    return error(status, "Internal Server Error" if status == 500 else "Service Unavailable")


def too_large(size: int) -> Response:
    return error(400, f"Request body of {size} bytes exceeds the 500 KB batch limit")


def count_records(method: str, path: str, body: Any) -> int | None:
    if isinstance(body.get("batch"), list):
        return len(body["batch"])
    return 1 if body.get("type") or path.endswith(("/identify", "/track")) else None


body_of = body_reader(lambda text: Reply(error(400, f"Invalid JSON: {text}")))
