"""Infobip on the wire, whatever the route: ``{"requestError": {"serviceException":
{"messageId", "text"}}}`` errors, ``Authorization: App <key>``, the gate's answers
(401, 429 with ``Retry-After``, 5xx) and body reading."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, Response

from activations.sandbox.common import Reply, body_reader
from activations.sandbox.limits import Decision, throttled_headers

NAME = "infobip"
MAX_PEOPLE = 1_000  # per batch request (people batches and tag batches)


def service_exception(message_id: str, text: str) -> dict[str, Any]:
    return {"requestError": {"serviceException": {"messageId": message_id, "text": text}}}


def error(status: int, message_id: str, text: str,
          headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(service_exception(message_id, text), status_code=status,
                        headers=headers)


def authenticate(headers: Headers, key: str) -> str | None:
    value = headers.get("authorization", "")
    presented = value[4:].strip() if value[:4].lower() == "app " else None
    return presented if presented and presented == key else None


def unauthorized() -> Response:
    return error(401, "UNAUTHORIZED", "Invalid login details")


def throttled(decision: Decision) -> Response:
    return error(429, "TOO_MANY_REQUESTS", "Too many requests",
                 headers=throttled_headers(NAME, decision))


def server_error(status: int) -> Response:
    return error(status, "GENERAL_ERROR", "Something went wrong. Please contact support.")


def count_records(method: str, path: str, body: Any) -> int | None:
    if isinstance(body.get("people"), list):
        return len(body["people"])
    return 1 if "/events" in path else None


body_of = body_reader(lambda text: Reply(error(400, "BAD_REQUEST", text)))


def people_of(body: Any) -> list[Any]:
    """A batch body's ``people``: 1 to 1,000 of them, else Infobip's 400 (raised)."""
    people = body.get("people")
    if not isinstance(people, list) or not people:
        raise Reply(error(400, "BAD_REQUEST", "people must be a non-empty array"))
    if len(people) > MAX_PEOPLE:
        raise Reply(error(400, "BAD_REQUEST", f"Array size of the batch request is limited "
                          f"to {MAX_PEOPLE} people; got {len(people)}"))
    return people
