"""Customer.io's reporting-webhook body, read into ``Signal``s (reporting webhook JSON):
``{"event_id", "object_type": "email", "metric":
"unsubscribed|bounced|spammed|opened|clicked", "timestamp", "data": {"email_address",
"identifiers": {"email"}, "href", "campaign_id"}}``.

A body that is not this shape raises ``ValueError`` (the receiver answers 400); events
of kinds that matter to nobody here are skipped.

Authentication (``verify``), as Customer.io documents its reporting webhooks:
``X-CIO-Signature`` is the hex HMAC-SHA256, under the workspace's webhook signing
key, of ``v0:<X-CIO-Timestamp>:<raw body>``; the timestamp (epoch seconds) must be
within the tolerance window. Secret: ``CUSTOMERIO_WEBHOOK_SIGNING_KEY``.
"""

from __future__ import annotations

from activations.contract.signals import Signal, first_time, json_body, text_or_none
from activations.providers.hook_auth import (
    Delivery,
    Unverified,
    hmac_sha256_hex,
    same_secret,
    signed_time,
)

_CUSTOMERIO = {
    "unsubscribed": ("unsubscribed", None),
    "bounced": ("bounced", "hard"),
    "spammed": ("spam", None),
    "opened": ("opened", None),
    "clicked": ("clicked", None),
}


def parse(body: bytes, content_type: str) -> list[Signal]:
    payload = json_body(body)
    events = payload if isinstance(payload, list) else [payload]
    signals = []
    for event in events:
        if not isinstance(event, dict) or "metric" not in event:
            raise ValueError('a Customer.io reporting webhook is {"metric": ..., "data": {...}}')
        kind = _CUSTOMERIO.get(str(event.get("metric", "")).lower())
        data = event.get("data") or {}
        identifiers = data.get("identifiers") or {}
        email = text_or_none(data.get("email_address") or identifiers.get("email"))
        if kind and email:
            signals.append(
                Signal(
                    "customerio",
                    email,
                    kind[0],
                    first_time(event.get("timestamp")),  # type: ignore[arg-type]
                    bounce_type=kind[1],
                    url=text_or_none(data.get("href")),
                    campaign_id=text_or_none(data.get("campaign_id")),
                    message_id=text_or_none(data.get("delivery_id")),
                    provider_event_id=text_or_none(event.get("event_id")),
                )
            )
    return signals


def verify(delivery: Delivery, secret: str, now: float) -> str | None:
    timestamp = delivery.header("X-CIO-Timestamp")
    signature = delivery.header("X-CIO-Signature").strip().lower()
    if not signature:
        raise Unverified("no X-CIO-Signature header")
    signed = b"v0:" + timestamp.encode("utf-8", "replace") + b":" + delivery.body
    if not same_secret(signature, hmac_sha256_hex(secret, signed)):
        raise Unverified("X-CIO-Signature does not match the body and timestamp")
    signed_time(timestamp, now, name="X-CIO-Timestamp")
    return signature
