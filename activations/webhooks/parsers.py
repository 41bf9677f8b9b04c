"""Each ESP's reporting-webhook body, read into ``Signal``s.

Shapes (as each ESP sends them; the sandbox posts the same):
- Braze (Currents-style JSON): ``{"events": [{"id", "event_type":
  "users.messages.email.Unsubscribe|Bounce|SoftBounce|MarkAsSpam|Open|Click", "time",
  "user": {"external_user_id", "email_address"}, "properties": {"url", "campaign_id"}}]}``;
- Klaviyo (JSON): ``{"data": [{"type": "event", "id", "attributes": {"metric": {"name":
  "Unsubscribed from Email Marketing|Bounced Email|Marked Email as Spam|Opened Email|
  Clicked Email"}, "datetime"|"timestamp", "profile": {"email"}, "event_properties"}}]}``;
- Mailchimp (form-encoded): ``type=unsubscribe|cleaned&fired_at=...&data[email]=...
  &data[reason]=hard|abuse|...``; ``cleaned`` with reason ``abuse`` is a spam complaint,
  any other ``cleaned`` a hard bounce; ``subscribe``/``profile``/``upemail`` change no consent;
- SendGrid (Event Webhook, JSON array): ``[{"email", "timestamp", "event":
  "unsubscribe|group_unsubscribe|bounce|spamreport|open|click|dropped", "sg_event_id",
  "type": "bounce|blocked", "url"}]``;
- Customer.io (reporting webhook JSON): ``{"event_id", "object_type": "email", "metric":
  "unsubscribed|bounced|spammed|opened|clicked", "timestamp", "data": {"email_address",
  "identifiers": {"email"}, "href", "campaign_id"}}``.

A body that is not the provider's shape raises ``ValueError`` (the receiver
answers 400); events of kinds that matter to nobody here are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from activations.consent.signals import Signal, first_time

Parser = Callable[[bytes, str], list[Signal]]


def _json(body: bytes) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError as exc:
        raise ValueError(f"body is not JSON ({exc.msg} at character {exc.pos})") from None


def _str(value: object) -> str | None:
    return None if value in (None, "") else str(value)


_BRAZE = {
    "unsubscribe": ("unsubscribed", None),
    "bounce": ("bounced", "hard"),
    "softbounce": ("bounced", "soft"),
    "markasspam": ("spam", None),
    "open": ("opened", None),
    "click": ("clicked", None),
}


def braze(body: bytes, content_type: str) -> list[Signal]:
    payload = _json(body)
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        raise ValueError('a Braze webhook is {"events": [...]}')
    signals = []
    for event in events:
        kind = _BRAZE.get(str(event.get("event_type", "")).rsplit(".", 1)[-1].lower())
        user = event.get("user") or {}
        props = event.get("properties") or {}
        email = _str(
            user.get("email_address") or props.get("email_address") or event.get("email_address")
        )
        if kind and email:
            signals.append(
                Signal(
                    "braze",
                    email,
                    kind[0],
                    first_time(event.get("time")),  # type: ignore[arg-type]
                    bounce_type=kind[1],
                    url=_str(props.get("url")),
                    campaign_id=_str(props.get("campaign_id")),
                    message_id=_str(props.get("dispatch_id")),
                    provider_event_id=_str(event.get("id")),
                )
            )
    return signals


_KLAVIYO = {
    "unsubscribed from email marketing": ("unsubscribed", None),
    "unsubscribed": ("unsubscribed", None),
    "bounced email": ("bounced", "hard"),
    "marked email as spam": ("spam", None),
    "opened email": ("opened", None),
    "clicked email": ("clicked", None),
}


def klaviyo(body: bytes, content_type: str) -> list[Signal]:
    payload = _json(body)
    data = payload.get("data") if isinstance(payload, dict) else None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ValueError('a Klaviyo webhook is {"data": [{"type": "event", ...}]}')
    signals = []
    for item in data:
        attrs = item.get("attributes") or {}
        metric = attrs.get("metric") or {}
        name = metric.get("name") if isinstance(metric, dict) else metric
        kind = _KLAVIYO.get(str(name or "").strip().lower())
        profile = attrs.get("profile") or {}
        props = attrs.get("event_properties") or {}
        email = _str(
            profile.get("email")
            or props.get("email")
            or (profile.get("attributes") or {}).get("email")
        )
        if kind and email:
            signals.append(
                Signal(
                    "klaviyo",
                    email,
                    kind[0],
                    first_time(attrs.get("datetime"), attrs.get("timestamp")),  # type: ignore[arg-type]
                    bounce_type=kind[1],
                    url=_str(props.get("URL") or props.get("url")),
                    campaign_id=_str(props.get("$message") or props.get("campaign_id")),
                    provider_event_id=_str(item.get("id")),
                )
            )
    return signals


def mailchimp(body: bytes, content_type: str) -> list[Signal]:
    if "json" in content_type:
        payload = _json(body)
        fields = {k: str(v) for k, v in payload.items() if not isinstance(v, dict)}
        fields.update({f"data[{k}]": str(v) for k, v in (payload.get("data") or {}).items()})
    else:
        fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    kind_name = fields.get("type")
    if not kind_name:
        raise ValueError("a Mailchimp webhook is form-encoded with type=... and data[email]=...")
    email = _str(fields.get("data[email]"))
    reason = (fields.get("data[reason]") or "").lower()
    if kind_name == "unsubscribe":
        kind, bounce = "unsubscribed", None
    elif kind_name == "cleaned":
        kind, bounce = ("spam", None) if reason == "abuse" else ("bounced", "hard")
    else:
        return []  # subscribe, profile, upemail, campaign: no consent change to land
    if not email:
        return []
    return [
        Signal(
            "mailchimp",
            email,
            kind,
            first_time(fields.get("fired_at")),  # type: ignore[arg-type]
            bounce_type=bounce,
            campaign_id=_str(fields.get("data[campaign_id]")),
            provider_event_id=":".join(
                (kind_name, fields.get("data[list_id]", ""), fields.get("fired_at", ""))
            ),
        )
    ]


_SENDGRID = {
    "unsubscribe": ("unsubscribed", None),
    "group_unsubscribe": ("unsubscribed", None),
    "bounce": ("bounced", "hard"),
    "spamreport": ("spam", None),
    "open": ("opened", None),
    "click": ("clicked", None),
}


def sendgrid(body: bytes, content_type: str) -> list[Signal]:
    payload = _json(body)
    if not isinstance(payload, list):
        raise ValueError("a SendGrid Event Webhook body is a JSON array of events")
    signals = []
    for event in payload:
        kind = _SENDGRID.get(str(event.get("event", "")).lower())
        email = _str(event.get("email"))
        if not kind or not email:
            continue
        bounce = kind[1]
        if kind[0] == "bounced" and str(event.get("type", "bounce")).lower() == "blocked":
            bounce = "soft"  # a block is temporary: recorded, no consent change
        signals.append(
            Signal(
                "sendgrid",
                email,
                kind[0],
                first_time(event.get("timestamp")),  # type: ignore[arg-type]
                bounce_type=bounce,
                url=_str(event.get("url")),
                message_id=_str(event.get("sg_message_id")),
                provider_event_id=_str(event.get("sg_event_id")),
            )
        )
    return signals


_CUSTOMERIO = {
    "unsubscribed": ("unsubscribed", None),
    "bounced": ("bounced", "hard"),
    "spammed": ("spam", None),
    "opened": ("opened", None),
    "clicked": ("clicked", None),
}


def customerio(body: bytes, content_type: str) -> list[Signal]:
    payload = _json(body)
    events = payload if isinstance(payload, list) else [payload]
    signals = []
    for event in events:
        if not isinstance(event, dict) or "metric" not in event:
            raise ValueError('a Customer.io reporting webhook is {"metric": ..., "data": {...}}')
        kind = _CUSTOMERIO.get(str(event.get("metric", "")).lower())
        data = event.get("data") or {}
        email = _str(data.get("email_address") or (data.get("identifiers") or {}).get("email"))
        if kind and email:
            signals.append(
                Signal(
                    "customerio",
                    email,
                    kind[0],
                    first_time(event.get("timestamp")),  # type: ignore[arg-type]
                    bounce_type=kind[1],
                    url=_str(data.get("href")),
                    campaign_id=_str(data.get("campaign_id")),
                    message_id=_str(data.get("delivery_id")),
                    provider_event_id=_str(event.get("event_id")),
                )
            )
    return signals


PARSERS: dict[str, Parser] = {
    "braze": braze,
    "klaviyo": klaviyo,
    "mailchimp": mailchimp,
    "sendgrid": sendgrid,
    "customerio": customerio,
}
