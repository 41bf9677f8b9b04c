"""Small helpers every provider router shares."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import string
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from starlette.datastructures import Headers

EMAIL_RE = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[A-Za-z]{2,}$")


def valid_email(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 254 and bool(EMAIL_RE.match(value))


def norm_email(value: Any) -> str | None:
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def parse_time(value: Any) -> float | None:
    """ISO 8601 or epoch seconds to epoch seconds; None when unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.timestamp()
    return None


def token(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def profile_id() -> str:
    """A Klaviyo-looking profile id (26 characters, ULID alphabet)."""
    return "01" + "".join(ULID_ALPHABET[b % 32] for b in secrets.token_bytes(24))


def md5_email(email: str) -> str:
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 (Mailchimp's hash)


def bearer(headers: Headers) -> str | None:
    value = headers.get("authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def basic(headers: Headers) -> tuple[str, str] | None:
    value = headers.get("authorization", "")
    if not value.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(value[6:].strip()).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


class BadJson(Exception):
    """The body is not the JSON the endpoint needs."""


async def json_body(request: Request, *, kind: type = dict) -> Any:
    raw = await request.body()
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadJson(f"body is not valid JSON: {exc}") from exc
    if not isinstance(body, kind):
        raise BadJson(f"body must be a JSON {'object' if kind is dict else 'array'}")
    return body


def body_reader(error: Callable[[str], Exception]) -> Callable[[Request], Awaitable[Any]]:
    """A router's ``body_of``: the request's JSON object, or ``error(message)`` raised,
    an answer in the provider's own error shape."""

    async def body_of(request: Request) -> Any:
        try:
            return await json_body(request)
        except BadJson as exc:
            raise error(str(exc)) from exc

    return body_of


class Reply(Exception):
    """Answer the request with this provider-shaped response (raised from guards)."""

    def __init__(self, response: Any):
        super().__init__("provider reply")
        self.response = response


def page_params(request: Request, *, default: int, maximum: int) -> tuple[int, int]:
    """(offset, size) from JSON:API style ``page[cursor]`` / ``page[size]``."""
    try:
        size = int(request.query_params.get("page[size]", default))
    except ValueError:
        size = default
    try:
        offset = int(request.query_params.get("page[cursor]", 0))
    except ValueError:
        offset = 0
    return max(0, offset), max(1, min(size, maximum))


def next_link(request: Request, offset: int, size: int, total: int) -> str | None:
    if offset + size >= total:
        return None
    return str(request.url.include_query_params(**{"page[cursor]": str(offset + size)}))
