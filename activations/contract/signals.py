"""What an ESP tells us about a person: a ``Signal`` (an unsubscribe, a bounce,
a spam complaint, an open or a click), and how the ESPs' times and bodies are
read. Providers produce signals (their consent reader and their inbound hook
parser, ``activations.providers.<name>``); ``activations.consent`` lands them.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Literal

SignalKind = Literal["unsubscribed", "bounced", "spam", "opened", "clicked"]

#: signal kind -> raw.consents.status (kinds not listed change no consent)
CONSENT_STATUS: dict[str, str] = {
    "unsubscribed": "unsubscribed",
    "bounced": "bounced",
    "spam": "spam_complaint",
}


@dataclass(frozen=True)
class Signal:
    provider: str  # braze | klaviyo | mailchimp | sendgrid | customerio
    email: str
    kind: SignalKind
    occurred_at: dt.datetime  # UTC
    bounce_type: str | None = None  # hard | soft (bounced only; a soft bounce changes no consent)
    url: str | None = None  # clicked only
    campaign_id: str | None = None
    message_id: str | None = None
    provider_event_id: str | None = None  # the ESP's own id for the event, when it has one

    @property
    def consent_status(self) -> str | None:
        if self.kind == "bounced" and self.bounce_type == "soft":
            return None
        return CONSENT_STATUS.get(self.kind)


def utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.replace(microsecond=0)


def parse_time(value: object) -> dt.datetime | None:
    """An ESP timestamp (epoch seconds or ms, ISO 8601, ``YYYY-MM-DD HH:MM:SS``) as naive UTC;
    ``None`` when it does not read as a time, ``ValueError`` when it is a number no
    calendar holds (``1e30``)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return utc_naive(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            number = float(value)
            if number > 1e12:
                number /= 1000.0
            return utc_naive(dt.datetime.fromtimestamp(number, dt.UTC))
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"time {str(value)[:40]!r} is out of range") from None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        return utc_naive(dt.datetime.fromisoformat(text))
    except ValueError:
        return None
    except OverflowError:
        raise ValueError(f"time {text[:40]!r} is out of range") from None


def first_time(*values: object) -> dt.datetime:
    """The first of ``values`` that reads as a time (``parse_time``), else now (UTC,
    to the second): a signal is landed even when the ESP sent no usable time."""
    for value in values:
        parsed = parse_time(value)
        if parsed is not None:
            return parsed
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except json.JSONDecodeError as exc:
        raise ValueError(f"body is not JSON ({exc.msg} at character {exc.pos})") from None
    except UnicodeDecodeError:
        raise ValueError("body is not JSON (not UTF-8)") from None
    except RecursionError:
        raise ValueError("body is not JSON this program reads (nested too deeply)") from None


def text_or_none(value: object) -> str | None:
    return None if value in (None, "") else str(value)
