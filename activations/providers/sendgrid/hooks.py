"""SendGrid's reporting-webhook body, read into ``Signal``s (Event Webhook, JSON array):
``[{"email", "timestamp", "event":
"unsubscribe|group_unsubscribe|bounce|spamreport|open|click|dropped", "sg_event_id",
"type": "bounce|blocked", "url"}]``.

A body that is not this shape raises ``ValueError`` (the receiver answers 400); events
of kinds that matter to nobody here are skipped.
"""

from __future__ import annotations

from activations.contract.signals import Signal, first_time, json_body, text_or_none

_SENDGRID = {
    "unsubscribe": ("unsubscribed", None),
    "group_unsubscribe": ("unsubscribed", None),
    "bounce": ("bounced", "hard"),
    "spamreport": ("spam", None),
    "open": ("opened", None),
    "click": ("clicked", None),
}


def parse(body: bytes, content_type: str) -> list[Signal]:
    payload = json_body(body)
    if not isinstance(payload, list):
        raise ValueError("a SendGrid Event Webhook body is a JSON array of events")
    signals = []
    for event in payload:
        kind = _SENDGRID.get(str(event.get("event", "")).lower())
        email = text_or_none(event.get("email"))
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
                url=text_or_none(event.get("url")),
                message_id=text_or_none(event.get("sg_message_id")),
                provider_event_id=text_or_none(event.get("sg_event_id")),
            )
        )
    return signals
