"""The Segment HTTP Tracking API contract, as pure functions: reading a call,
checking it, correcting its clock, and mapping it onto the raw landing rows
(``raw.events`` / ``raw.identifies``, see ``activations.warehouse.raw_schema``).

- A call needs ``userId`` or ``anonymousId``; a track call needs ``event``;
  ``properties``, ``traits`` and ``context`` must be objects when present.
- ``track`` lands in ``raw.events``; ``page`` lands there too, as the event
  ``Page Viewed`` (its ``name``/``category`` join the properties, and
  ``context.page`` is filled from ``url``/``path``/``referrer``/``title``/
  ``search`` when the call does not carry it); ``identify`` lands in
  ``raw.identifies`` (its ``traits``; ``raw.identifies`` has no context).
  Other types (screen, group, alias) are refused with a reason.
- Clock skew, as Segment documents it: a call that carries ``sentAt`` (its own,
  or the batch's) gets ``timestamp = receivedAt - (sentAt - originalTimestamp)``,
  so a device clock that is off moves nothing; without ``sentAt`` the call's
  ``timestamp`` is taken as is; without either, ``receivedAt``.
- ``messageId`` is the idempotency key. A call without one gets an id derived
  from its content when it carries a timestamp (so a retry is still one row),
  else a random one.
- Limits: 32 KB per call, 500 KB and 2,500 calls per batch; over a limit the
  answer is ``400`` with ``Exceed payload limit`` (Segment's words).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_CALL_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
MAX_BATCH_CALLS = 2500
PAYLOAD_LIMIT = "Exceed payload limit"
PAGE_EVENT = "Page Viewed"
COLLECTED_TYPES = ("track", "identify", "page")
PAGE_FIELDS = ("url", "path", "referrer", "title", "search")

EventRow = tuple[str, str | None, str | None, str, datetime, datetime, str, str]
IdentifyRow = tuple[str, str | None, str | None, str, datetime]


class Invalid(ValueError):
    """A call that cannot land: ``reason`` is what the answer and the rejects table say."""

    def __init__(self, reason: str, message_id: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.message_id = message_id


@dataclass
class Rows:
    """What one request adds to the warehouse."""

    events: list[EventRow] = field(default_factory=list)
    identifies: list[IdentifyRow] = field(default_factory=list)
    # (message_id or None, reason, payload text)
    rejects: list[tuple[str | None, str, str]] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return len(self.events) + len(self.identifies)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _strict_loads(body: bytes | str) -> Any:
    try:
        return json.loads(body, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"Invalid JSON: {exc}") from None


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


try:  # orjson (when installed) parses and writes JSON several times faster
    import orjson
except ImportError:  # pragma: no cover - the standard library says the same
    loads, dumps = _strict_loads, _dumps
else:

    def loads(body: bytes | str) -> Any:
        """Strict JSON (no NaN/Infinity); ``Invalid('Invalid JSON')`` otherwise."""
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:  # integers past 64 bits, or invalid: ask json
            return _strict_loads(body)

    def dumps(value: Any) -> str:
        """Compact JSON text, as ``json.dumps(separators=(",", ":"), ensure_ascii=False)``."""
        try:
            return orjson.dumps(value).decode()
        except TypeError:  # integers past 64 bits
            return _dumps(value)


def now_utc() -> datetime:
    """Now, UTC, naive (how raw stores timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None)


def parse_time(value: Any, name: str) -> datetime | None:
    """An ISO 8601 time as naive UTC; a time without an offset is taken as UTC."""
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{name} must be an ISO 8601 date-time string, got {value!r}")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{name} is not an ISO 8601 date-time: {value!r}") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def corrected_timestamp(
    received_at: datetime, timestamp: datetime | None, sent_at: datetime | None
) -> datetime:
    """Segment's clock-skew correction: ``receivedAt - (sentAt - originalTimestamp)``."""
    if timestamp is None:
        return received_at
    if sent_at is None:
        return timestamp
    return received_at - (sent_at - timestamp)


def _ident(value: Any, name: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Invalid(f"{name} must be a string, got {type(value).__name__}")
    return str(value)


def _object(message: dict[str, Any], name: str) -> dict[str, Any]:
    value = message.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Invalid(f"{name} must be an object, got {type(value).__name__}")
    return value


def message_id_of(message: dict[str, Any]) -> str | None:
    """The call's own messageId, when it has a readable one."""
    value = message.get("messageId") if isinstance(message, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


def _derived_id(message: dict[str, Any]) -> str:
    """An id for a call that has none: from its content when it names its own time
    (a retry of it is the same call), else random."""
    if message.get("timestamp") is None and message.get("originalTimestamp") is None:
        return f"col-{uuid.uuid4()}"
    content = {k: v for k, v in message.items() if k not in ("sentAt", "writeKey")}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return f"col-{digest[:32]}"


def to_rows(
    message: Any,
    kind: str | None,
    received_at: datetime,
    rows: Rows,
    *,
    batch_sent_at: datetime | None = None,
    batch_context: dict[str, Any] | None = None,
) -> None:
    """Map one call onto ``rows`` (a track/page call to events, an identify to
    identifies); raises ``Invalid`` with the reason. ``kind`` is the endpoint's
    type, ``None`` inside a batch (each call says its ``type``)."""
    if not isinstance(message, dict):
        raise Invalid(f"a call must be a JSON object, got {type(message).__name__}")
    mid = message_id_of(message)
    try:
        _to_rows(message, kind, received_at, rows, batch_sent_at, batch_context)
    except Invalid as exc:
        exc.message_id = mid
        raise


def _to_rows(
    message: dict[str, Any],
    kind: str | None,
    received_at: datetime,
    rows: Rows,
    batch_sent_at: datetime | None,
    batch_context: dict[str, Any] | None,
) -> None:
    call_type = kind or message.get("type")
    if call_type not in COLLECTED_TYPES:
        if call_type is None:
            raise Invalid("missing type (track, identify or page)")
        raise Invalid(f"type {call_type!r} is not collected (track, identify and page are)")
    message_id = message.get("messageId")
    if message_id is None or message_id == "":
        message_id = _derived_id(message)
    else:
        message_id = _ident(message_id, "messageId")
    user_id = _ident(message.get("userId"), "userId")
    anonymous_id = _ident(message.get("anonymousId"), "anonymousId")
    if user_id is None and anonymous_id is None:
        raise Invalid("missing userId or anonymousId")
    context = _object(message, "context")
    if batch_context:
        context = {**batch_context, **context}
    original = parse_time(message.get("timestamp"), "timestamp")
    if original is None:
        original = parse_time(message.get("originalTimestamp"), "originalTimestamp")
    sent_at = parse_time(message.get("sentAt"), "sentAt") or batch_sent_at
    timestamp = corrected_timestamp(received_at, original, sent_at)

    if call_type == "identify":
        traits = _object(message, "traits") or _object(context, "traits")
        rows.identifies.append((message_id, user_id, anonymous_id, dumps(traits), timestamp))
        return
    properties = _object(message, "properties")
    if call_type == "track":
        event = message.get("event")
        if not isinstance(event, str) or not event.strip():
            raise Invalid("missing event (a track call names its event)")
    else:  # page
        event = PAGE_EVENT
        properties = dict(properties)
        for key in ("name", "category"):
            value = message.get(key)
            if value is not None and key not in properties:
                properties[key] = value
        if "page" not in context:
            page = {k: properties[k] for k in PAGE_FIELDS if k in properties}
            if page:
                context = {**context, "page": page}
    rows.events.append(
        (
            message_id,
            anonymous_id,
            user_id,
            event,
            timestamp,
            received_at,
            dumps(properties),
            dumps(context),
        )
    )
